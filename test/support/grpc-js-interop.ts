/**
 * The gRPC interop TestService as @grpc/grpc-js implements it, built from
 * test/proto/grpc/testing/test.proto: a grpc-js server (for Ferry's interop
 * client) and grpc-js client cases (for Ferry's interop server).
 *
 * What grpc-js cannot express, and is therefore run Ferry against Ferry:
 * - a grpc-js server cannot see whether a request message was compressed,
 *   so it cannot answer the CompressedRequest probe (client_compressed_unary,
 *   client_compressed_streaming);
 * - a grpc-js server cannot compress one response or one stream message on
 *   request (server_compressed_unary, server_compressed_streaming);
 * - a grpc-js client cannot read the compressed flag of a received message,
 *   so its server_compressed_* cases check sizes only.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";
import type { InteropCase } from "../interop/ferry-cases.js";
import { SPECIAL_STATUS_MESSAGE } from "../interop/ferry-cases.js";

const protoDir = fileURLToPath(new URL("../proto", import.meta.url));
const definition = protoLoader.loadSync("grpc/testing/test.proto", { includeDirs: [protoDir], keepCase: true, longs: Number, enums: String, defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as any;
const TestServiceClient: new (address: string, creds: grpc.ChannelCredentials, options?: object) => any = loaded.grpc.testing.TestService;
const UnimplementedServiceClient: new (address: string, creds: grpc.ChannelCredentials, options?: object) => any = loaded.grpc.testing.UnimplementedService;

/** Cases a grpc-js server cannot serve (see the module comment); Ferry's client runs them against a Ferry server instead. */
export const GRPC_JS_SERVER_EXCLUDED: readonly InteropCase[] = ["client_compressed_unary", "client_compressed_streaming", "server_compressed_unary", "server_compressed_streaming"];

const ECHO_INITIAL = "x-grpc-test-echo-initial";
const ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";
const zeros = (n: number) => Buffer.alloc(n);

type Params = { size: number; interval_us: number };
type OutReq = { response_parameters: Params[]; response_status: { code: number; message: string } | null };

function initialMetadata(call: grpc.ServerUnaryCall<any, any> | grpc.ServerDuplexStream<any, any>): void {
  const md = new grpc.Metadata();
  const v = call.metadata.get(ECHO_INITIAL);
  if (v.length > 0) md.set(ECHO_INITIAL, v[0]);
  call.sendMetadata(md);
}

function trailingMetadata(call: { metadata: grpc.Metadata }): grpc.Metadata {
  const md = new grpc.Metadata();
  const v = call.metadata.get(ECHO_TRAILING);
  if (v.length > 0) md.set(ECHO_TRAILING, v[0]);
  return md;
}

function statusError(status: OutReq["response_status"], call: { metadata: grpc.Metadata }): Partial<grpc.StatusObject> | null {
  return status && status.code !== 0 ? { code: status.code, details: status.message, metadata: trailingMetadata(call) } : null;
}

async function writeResponses(call: { write(m: object): boolean }, params: Params[]): Promise<void> {
  for (const p of params) {
    if (p.interval_us > 0) await new Promise((r) => setTimeout(r, p.interval_us / 1000));
    call.write({ payload: { body: zeros(p.size) } });
  }
}

/** Starts a grpc-js server with the interop TestService; `tls` gives it a certificate. */
export async function startGrpcJsInteropServer(tls?: { cert: string; key: string }): Promise<{ port: number; stop(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(loaded.grpc.testing.TestService.service, {
    EmptyCall: (_call: any, cb: grpc.sendUnaryData<object>) => cb(null, {}),
    UnaryCall(call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<object>) {
      initialMetadata(call);
      const err = statusError(call.request.response_status, call);
      if (err) return cb(err as grpc.ServiceError);
      cb(null, { payload: { body: zeros(call.request.response_size) } }, trailingMetadata(call));
    },
    async StreamingOutputCall(call: grpc.ServerWritableStream<any, any>) {
      await writeResponses(call, call.request.response_parameters);
      call.end();
    },
    StreamingInputCall(call: grpc.ServerReadableStream<any, any>, cb: grpc.sendUnaryData<object>) {
      let total = 0;
      call.on("data", (m: any) => (total += m.payload?.body?.length ?? 0));
      call.on("end", () => cb(null, { aggregated_payload_size: total }));
    },
    FullDuplexCall(call: grpc.ServerDuplexStream<any, any>) {
      initialMetadata(call);
      let chain = Promise.resolve();
      let failed = false;
      call.on("data", (req: OutReq) => {
        chain = chain.then(async () => {
          if (failed) return;
          const err = statusError(req.response_status, call);
          if (err) {
            failed = true;
            return void call.emit("error", err);
          }
          await writeResponses(call, req.response_parameters);
        });
      });
      call.on("end", () => void chain.then(() => failed || call.end(trailingMetadata(call))));
    },
    HalfDuplexCall(call: grpc.ServerDuplexStream<any, any>) {
      const all: OutReq[] = [];
      call.on("data", (req: OutReq) => all.push(req));
      call.on("end", async () => {
        for (const req of all) await writeResponses(call, req.response_parameters);
        call.end();
      });
    },
  });
  const creds = tls ? grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }]) : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", creds, (err, p) => (err ? reject(err) : resolve(p))));
  return { port, stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

/** Where a grpc-js interop client connects. */
export interface GrpcJsTarget {
  port: number;
  /** PEM CA to trust; TLS when given. */
  ca?: string;
  /** Name to verify the server certificate against. */
  serverName?: string;
}

function check(ok: boolean, reason: string): asserts ok {
  if (!ok) throw new Error(reason);
}

function channel(target: GrpcJsTarget, options: Record<string, unknown> = {}, ctor = TestServiceClient) {
  const creds = target.ca ? grpc.credentials.createSsl(Buffer.from(target.ca)) : grpc.credentials.createInsecure();
  const opts = target.serverName ? { "grpc.ssl_target_name_override": target.serverName, "grpc.default_authority": target.serverName, ...options } : options;
  return new ctor(`127.0.0.1:${target.port}`, creds, opts);
}

const unary = (client: any, method: string, req: object, md = new grpc.Metadata(), opts: grpc.CallOptions = {}) =>
  new Promise<any>((resolve, reject) => client[method](req, md, opts, (e: grpc.ServiceError | null, r: any) => (e ? reject(e) : resolve(r))));

const collect = (call: grpc.ClientReadableStream<any>) =>
  new Promise<any[]>((resolve, reject) => {
    const out: any[] = [];
    call.on("data", (m) => out.push(m));
    call.on("error", reject);
    call.on("end", () => resolve(out));
  });

async function expectCode(code: grpc.status, p: Promise<unknown>, what: string): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    const err = e as grpc.ServiceError;
    check(err.code === code, `${what}: expected status ${grpc.status[code]}, got ${grpc.status[err.code]} "${err.details}"`);
    return err;
  }
  throw new Error(`${what}: expected status ${grpc.status[code]}, but the call succeeded`);
}

const inputCall = (client: any, messages: { msg: object; flags?: number }[]) =>
  new Promise<any>((resolve, reject) => {
    const call = client.StreamingInputCall((e: grpc.ServiceError | null, r: any) => (e ? reject(e) : resolve(r)));
    for (const { msg, flags } of messages) call.write(msg, flags as never);
    call.end();
  });

const sizes = (ms: any[]) => ms.map((m) => m.payload?.body?.length ?? -1).join(",");

/** Runs one interop case with a grpc-js client against `target`; throws with a one-line reason on failure. */
export async function runGrpcJsCase(name: InteropCase, target: GrpcJsTarget): Promise<void> {
  const client = channel(target);
  const big = { response_size: 314159, payload: { body: zeros(271828) } };
  try {
    switch (name) {
      case "empty_unary":
        check(JSON.stringify(await unary(client, "EmptyCall", {})) === "{}", "EmptyCall: non-empty response");
        return;
      case "large_unary":
        check((await unary(client, "UnaryCall", big)).payload.body.length === 314159, "large_unary: wrong size");
        return;
      case "client_streaming":
        check((await inputCall(client, [27182, 8, 1828, 45904].map((n) => ({ msg: { payload: { body: zeros(n) } } })))).aggregated_payload_size === 74922, "client_streaming: wrong sum");
        return;
      case "server_streaming": {
        const got = await collect(client.StreamingOutputCall({ response_parameters: [31415, 9, 2653, 58979].map((size) => ({ size })) }));
        check(sizes(got) === "31415,9,2653,58979", `server_streaming: sizes ${sizes(got)}`);
        return;
      }
      case "ping_pong":
        return await pingPong(client);
      case "empty_stream": {
        const call = client.FullDuplexCall();
        call.end();
        check((await collect(call)).length === 0, "empty_stream: got responses");
        return;
      }
      case "cancel_after_begin": {
        const p = new Promise((resolve, reject) => {
          const call = client.StreamingInputCall((e: Error | null, r: unknown) => (e ? reject(e) : resolve(r)));
          call.cancel();
        });
        await expectCode(grpc.status.CANCELLED, p, "cancel_after_begin");
        return;
      }
      case "cancel_after_first_response": {
        const call = client.FullDuplexCall();
        const p = new Promise((resolve, reject) => {
          call.once("data", () => call.cancel());
          call.on("error", reject);
          call.on("end", resolve);
        });
        call.write({ response_parameters: [{ size: 31415 }], payload: { body: zeros(27182) } });
        await expectCode(grpc.status.CANCELLED, p, "cancel_after_first_response");
        return;
      }
      case "timeout_on_sleeping_server": {
        const call = client.FullDuplexCall({ deadline: Date.now() + 1 });
        call.write({ payload: { body: zeros(27182) } });
        await expectCode(grpc.status.DEADLINE_EXCEEDED, collect(call), "timeout_on_sleeping_server");
        return;
      }
      case "custom_metadata":
        return await customMetadata(client, big);
      case "status_code_and_message":
      case "special_status_message": {
        const message = name === "special_status_message" ? SPECIAL_STATUS_MESSAGE : "test status message";
        const e = await expectCode(grpc.status.UNKNOWN, unary(client, "UnaryCall", { response_status: { code: 2, message } }), name);
        check(e.details === message, `${name}: UnaryCall message ${JSON.stringify(e.details)}`);
        if (name === "special_status_message") return;
        const call = client.FullDuplexCall();
        call.write({ response_status: { code: 2, message } });
        call.end();
        const e2 = await expectCode(grpc.status.UNKNOWN, collect(call), name);
        check(e2.details === message, `${name}: FullDuplexCall message ${JSON.stringify(e2.details)}`);
        return;
      }
      case "unimplemented_method":
        await expectCode(grpc.status.UNIMPLEMENTED, unary(client, "UnimplementedCall", {}), name);
        return;
      case "unimplemented_service": {
        const other = channel(target, {}, UnimplementedServiceClient);
        try {
          await expectCode(grpc.status.UNIMPLEMENTED, unary(other, "UnimplementedCall", {}), name);
        } finally {
          other.close();
        }
        return;
      }
      case "client_compressed_unary":
        return await clientCompressedUnary(client, target);
      case "client_compressed_streaming":
        return await clientCompressedStreaming(client, target);
      case "server_compressed_unary":
        for (const value of [true, false]) {
          const res = await unary(client, "UnaryCall", { ...big, response_compressed: { value } });
          check(res.payload.body.length === 314159, "server_compressed_unary: wrong size");
        }
        return;
      case "server_compressed_streaming": {
        const got = await collect(client.StreamingOutputCall({ response_parameters: [{ compressed: { value: true }, size: 31415 }, { compressed: { value: false }, size: 92653 }] }));
        check(sizes(got) === "31415,92653", `server_compressed_streaming: sizes ${sizes(got)}`);
        return;
      }
    }
  } finally {
    client.close();
  }
}

async function pingPong(client: any): Promise<void> {
  const call = client.FullDuplexCall();
  const responses: any[] = [];
  let wake: (() => void) | undefined;
  call.on("data", (m: any) => (responses.push(m), wake?.()));
  const done = collectEnd(call);
  for (const [size, body] of [[31415, 27182], [9, 8], [2653, 1828], [58979, 45904]]) {
    const before = responses.length;
    call.write({ response_parameters: [{ size }], payload: { body: zeros(body) } });
    while (responses.length === before) await new Promise<void>((r) => (wake = r));
    check(responses[before].payload.body.length === size, `ping_pong: expected ${size} bytes`);
  }
  call.end();
  await done;
  check(responses.length === 4, `ping_pong: ${responses.length} responses`);
}

function collectEnd(call: any): Promise<void> {
  return new Promise((resolve, reject) => {
    call.on("error", reject);
    call.on("end", resolve);
  });
}

async function customMetadata(client: any, big: object): Promise<void> {
  const md = new grpc.Metadata();
  md.set(ECHO_INITIAL, "test_initial_metadata_value");
  md.set(ECHO_TRAILING, Buffer.from([0xab, 0xab, 0xab]));
  const verify = (headers: grpc.Metadata | undefined, trailers: grpc.Metadata | undefined, what: string) => {
    check(headers?.get(ECHO_INITIAL)[0] === "test_initial_metadata_value", `${what}: initial metadata missing`);
    check(Buffer.from((trailers?.get(ECHO_TRAILING)[0] as Buffer) ?? []).equals(Buffer.from([0xab, 0xab, 0xab])), `${what}: trailing metadata missing`);
  };
  let headers: grpc.Metadata | undefined;
  let status: grpc.StatusObject | undefined;
  await new Promise<void>((resolve, reject) => {
    const call = client.UnaryCall(big, md, (e: Error | null) => (e ? reject(e) : undefined));
    call.on("metadata", (m: grpc.Metadata) => (headers = m));
    call.on("status", (s: grpc.StatusObject) => ((status = s), resolve()));
  });
  verify(headers, status?.metadata, "UnaryCall");
  const call = client.FullDuplexCall(md);
  call.on("metadata", (m: grpc.Metadata) => (headers = m));
  const statusDone = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
  call.write({ response_parameters: [{ size: 314159 }], payload: { body: zeros(271828) } });
  call.end();
  await collect(call);
  verify(headers, (await statusDone).metadata, "FullDuplexCall");
}

async function clientCompressedUnary(plain: any, target: GrpcJsTarget): Promise<void> {
  const req = (value: boolean) => ({ expect_compressed: { value }, response_size: 314159, payload: { body: zeros(271828) } });
  await expectCode(grpc.status.INVALID_ARGUMENT, unary(plain, "UnaryCall", req(true)), "client_compressed_unary probe");
  const gzip = channel(target, { "grpc.default_compression_algorithm": 2 });
  try {
    // grpc-js compresses only once the server has advertised gzip in grpc-accept-encoding: warm up first.
    await unary(gzip, "EmptyCall", {});
    check((await unary(gzip, "UnaryCall", req(true))).payload.body.length === 314159, "client_compressed_unary: wrong size");
  } finally {
    gzip.close();
  }
  check((await unary(plain, "UnaryCall", req(false))).payload.body.length === 314159, "client_compressed_unary: wrong size");
}

async function clientCompressedStreaming(plain: any, target: GrpcJsTarget): Promise<void> {
  const msg = (value: boolean, n: number) => ({ expect_compressed: { value }, payload: { body: zeros(n) } });
  await expectCode(grpc.status.INVALID_ARGUMENT, inputCall(plain, [{ msg: msg(true, 27182) }]), "client_compressed_streaming probe");
  const gzip = channel(target, { "grpc.default_compression_algorithm": 2 });
  try {
    await unary(gzip, "EmptyCall", {});
    const res = await inputCall(gzip, [{ msg: msg(true, 27182) }, { msg: msg(false, 45904), flags: 2 /* WriteFlags.NoCompress */ }]);
    check(res.aggregated_payload_size === 73086, `client_compressed_streaming: sum ${res.aggregated_payload_size}`);
  } finally {
    gzip.close();
  }
}
