import type { CallOptions } from "../rpc/call-options.js";
import type { Metadata } from "../rpc/metadata.js";
import { addConnectionOptions, openSession, type ConnectionFlags } from "./cli-session.js";
import { createMethodCaller } from "./method-caller.js";
import { resolveMethod } from "./method-ref.js";
import type { CliIo, CommandInstaller } from "./program.js";
import { requestValues, toRequestMessages } from "./request-input.js";
import { createResponseWriter, withDecodedDetails } from "./response-writer.js";

/** Flags of `ferry call`, as commander parses them. */
interface CallFlags extends ConnectionFlags {
  data?: string;
  verbose?: boolean;
  emitDefaults?: boolean;
}

const EXAMPLES = `
Examples:
  $ ferry call 127.0.0.1:50051 shop.v1.InventoryService/ListProducts
  $ ferry call 127.0.0.1:50051 shop.v1.InventoryService/GetProduct -d '{"sku":"KB-001"}'
  $ ferry call 127.0.0.1:50051 shop.v1.CartService.GetCart -d @request.json -H 'authorization: Bearer t0k3n'
  $ printf '{"text":"a"}\\n{"text":"b"}\\n' | ferry call 127.0.0.1:50051 ferry.test.v1.EchoService/ClientStream
  $ ferry call 127.0.0.1:50051 shop.v1.InventoryService/ListProducts --proto shop/v1/inventory.proto --import-path proto --import-path examples/shop/proto
  $ ferry call grpcs://api.example.com:443 shop.v1.OrderService/GetOrder -d '{"orderId":"o-1"}' --cacert ca.pem --timeout 2s

The method is SERVICE/METHOD, SERVICE.METHOD or /SERVICE/METHOD. Responses print in
protobuf's JSON mapping: indented on a terminal, one JSON object per line otherwise.
Client- and bidi-streaming methods read JSON objects from stdin (one per line) unless -d
gives them. Exit status: 0 on OK, else the gRPC status code (5 NOT_FOUND, 4 DEADLINE_EXCEEDED,
14 UNAVAILABLE, …); 2 for bad usage.`;

/** Installs `ferry call TARGET METHOD`: calls one method of any kind and prints the responses as JSON. */
export const installCallCommand: CommandInstaller = (program, io) => {
  const command = program
    .command("call")
    .description("call a method and print the response(s) as JSON")
    .argument("<target>", "host:port (gRPC, cleartext) or a Ferry URL such as grpcs://host:port or native://host:port")
    .argument("<method>", "SERVICE/METHOD, e.g. shop.v1.InventoryService/ListProducts")
    .option("-d, --data <json>", "request JSON; @FILE reads a file, - reads stdin; several objects for client streaming")
    .option("-v, --verbose", "print response headers and trailers on stderr")
    .option("--emit-defaults", "print fields that have their default value too");
  addConnectionOptions(command, "deadline of the call; DEADLINE_EXCEEDED (exit 4) when it passes")
    .addHelpText("after", EXAMPLES)
    .action((target: string, method: string, flags: CallFlags) => runCall(io, target, method, flags));
};

async function runCall(io: CliIo, target: string, methodText: string, flags: CallFlags): Promise<void> {
  const session = await openSession(target, flags);
  try {
    const { method, registry } = await resolveMethod(session.source, methodText);
    const requestStream = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    if (requestStream && (flags.data === undefined || flags.data === "-") && io.stdin.isTTY === true) {
      io.stderr.write(`Type ${method.input.typeName} requests as JSON, one per line; Ctrl-D ends the stream.\n`);
    }
    const requests = toRequestMessages(requestValues(flags.data, io.stdin, requestStream), method.input, registry);
    const write = createResponseWriter(io.stdout, method.output, { registry, emitDefaults: flags.emitDefaults });
    const options: CallOptions = { ...session.callOptions, ...(flags.verbose ? verboseHooks(io) : {}) };
    try {
      for await (const response of createMethodCaller(method, session.transport)(requests, options)) write(response);
    } catch (err) {
      throw withDecodedDetails(err, registry);
    }
  } finally {
    await session.close();
  }
}

/** `-v`: response headers and trailers on stderr, so stdout stays JSON. */
function verboseHooks(io: CliIo): Pick<CallOptions, "onHeaders" | "onTrailers"> {
  const print = (title: string, md: Metadata) => {
    const lines = [...md].map(([k, v]) => `  ${k}: ${typeof v === "string" ? v : Buffer.from(v).toString("base64")}`);
    io.stderr.write(`${title}:${lines.length === 0 ? " (none)" : ""}\n${lines.map((l) => `${l}\n`).join("")}`);
  };
  return { onHeaders: (md) => print("Response headers", md), onTrailers: (md) => print("Response trailers", md) };
}
