import type { FileRegistry } from "@bufbuild/protobuf";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { addConnectionOptions, openSession, type ConnectionFlags } from "./cli-session.js";
import type { DescriptorSource } from "./descriptor-source.js";
import { DEFAULT_REFLECTION_TIMEOUT_MS } from "./list-command.js";
import type { CliIo, CommandInstaller } from "./program.js";
import { printEnum, printHeader, printMessage, printMethod, printService } from "./proto-printer.js";

const EXAMPLES = `
Examples:
  $ ferry describe 127.0.0.1:50051 shop.v1.InventoryService
  $ ferry describe 127.0.0.1:50051 shop.v1.InventoryService.GetProduct
  $ ferry describe 127.0.0.1:50051 shop.v1.InventoryService/GetProduct
  $ ferry describe 127.0.0.1:50051 shop.v1.Product
  $ ferry describe 127.0.0.1:50051

SYMBOL is a service, a method (SERVICE.METHOD or SERVICE/METHOD), a message or an enum,
printed as .proto text; a method also prints its request and response messages.
Without SYMBOL, every service. Exit status: 0; 5 NOT_FOUND for an unknown symbol;
12 UNIMPLEMENTED when the server has no reflection; 2 for bad usage.`;

/** Installs `ferry describe TARGET [SYMBOL]`: a service, method, message or enum as `.proto` text. */
export const installDescribeCommand: CommandInstaller = (program, io) => {
  const command = program
    .command("describe")
    .description("print a service, method, message or enum as .proto text")
    .argument("<target>", "host:port (gRPC, cleartext) or a Ferry URL such as grpcs://host:port")
    .argument("[symbol]", "full name, e.g. shop.v1.InventoryService or shop.v1.Product (default: every service)");
  addConnectionOptions(command, "deadline of each reflection request (default 10s)")
    .addHelpText("after", EXAMPLES)
    .action((target: string, symbol: string | undefined, flags: ConnectionFlags) => runDescribe(io, target, symbol, flags));
};

async function runDescribe(io: CliIo, target: string, symbol: string | undefined, flags: ConnectionFlags): Promise<void> {
  const session = await openSession(target, flags, DEFAULT_REFLECTION_TIMEOUT_MS);
  try {
    const symbols = symbol === undefined ? await session.source.listServices() : [symbol.replace(/^\./, "").replace("/", ".")];
    const texts: string[] = [];
    for (const s of symbols) texts.push(await describeSymbol(session.source, s));
    io.stdout.write(`${texts.join("\n\n")}\n`);
  } finally {
    await session.close();
  }
}

/**
 * The `.proto` text of one symbol, with a header comment naming its kind and file.
 *
 * @throws FerryError NOT_FOUND (5) when the source does not know `symbol`.
 */
export async function describeSymbol(source: DescriptorSource, symbol: string): Promise<string> {
  const registry = await source.registryFor(symbol).catch((err: unknown) => {
    if (err instanceof FerryError && err.code === Code.NOT_FOUND) throw new FerryError(Code.NOT_FOUND, `symbol "${symbol}" not found`);
    throw err;
  });
  const text = printSymbol(registry, symbol);
  if (text === undefined) throw new FerryError(Code.NOT_FOUND, `symbol "${symbol}" not found`);
  return text;
}

function printSymbol(registry: FileRegistry, symbol: string): string | undefined {
  const desc = registry.get(symbol);
  if (desc?.kind === "service") return `${printHeader(desc.typeName, "service", desc.file.proto.name)}\n${printService(desc)}`;
  if (desc?.kind === "message") return `${printHeader(desc.typeName, "message", desc.file.proto.name)}\n${printMessage(desc)}`;
  if (desc?.kind === "enum") return `${printHeader(desc.typeName, "enum", desc.file.proto.name)}\n${printEnum(desc)}`;
  const dot = symbol.lastIndexOf(".");
  const method = registry.getService(symbol.slice(0, dot))?.methods.find((m) => m.name === symbol.slice(dot + 1));
  if (method === undefined) return undefined;
  const messages = method.input === method.output ? [method.input] : [method.input, method.output];
  return [
    `${printHeader(symbol, "method", method.parent.file.proto.name)}\n${printMethod(method)}`,
    ...messages.map((m) => `// ${m.typeName}\n${printMessage(m)}`),
  ].join("\n\n");
}
