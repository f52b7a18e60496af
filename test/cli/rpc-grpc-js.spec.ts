/**
 * `ferry list`, `describe` and `call` against a real non-Ferry peer: a
 * @grpc/grpc-js server with @grpc/reflection, serving the test EchoService
 * loaded from test/proto by @grpc/proto-loader.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonLines, runFerry } from "./run-ferry.js";

const protoPath = fileURLToPath(new URL("../proto/ferry/test/v1/echo.proto", import.meta.url));
const ECHO = "ferry.test.v1.EchoService";

type EchoReq = { text: string; count: number };

/**
 * The peer; with `v1alphaOnly` its reflection serves only
 * grpc.reflection.v1alpha (as older servers do), so ferry must fall back.
 */
async function startGrpcJsServer(v1alphaOnly = false): Promise<{ target: string; server: grpc.Server }> {
  const definition = protoLoader.loadSync(protoPath, { keepCase: false, longs: String, enums: String, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition) as any;
  const server = new grpc.Server();
  server.addService(loaded.ferry.test.v1.EchoService.service, {
    Echo(call: grpc.ServerUnaryCall<EchoReq, unknown>, cb: grpc.sendUnaryData<unknown>) {
      const who = call.metadata.get("x-who")[0];
      cb(null, { text: who === undefined ? `grpc-js: ${call.request.text}` : `grpc-js: ${call.request.text} for ${String(who)}` });
    },
    ServerStream(call: grpc.ServerWritableStream<EchoReq, unknown>) {
      for (let i = 0; i < call.request.count; i++) call.write({ text: call.request.text, index: i });
      call.end();
    },
    ClientStream(_call: unknown, cb: grpc.sendUnaryData<unknown>) {
      cb({ code: grpc.status.UNIMPLEMENTED, details: "not here" });
    },
    Bidi(call: grpc.ServerDuplexStream<unknown, unknown>) {
      call.emit("error", { code: grpc.status.UNIMPLEMENTED, details: "not here" });
    },
  });
  new ReflectionService(definition).addToServer({
    addService: (service, impl) => {
      const isV1 = Object.values(service).some((m) => m.path.startsWith("/grpc.reflection.v1."));
      if (!(v1alphaOnly && isV1)) server.addService(service, impl);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { target: `127.0.0.1:${port}`, server };
}

describe("ferry against @grpc/grpc-js with @grpc/reflection", { timeout: 60_000 }, () => {
  let peer: Awaited<ReturnType<typeof startGrpcJsServer>>;

  beforeAll(async () => {
    peer = await startGrpcJsServer();
  });
  afterAll(() => new Promise<void>((resolve) => peer.server.tryShutdown(() => resolve())));

  it("list shows the peer's services", async () => {
    const run = await runFerry(["list", peer.target]);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toContain(ECHO);
  });

  it("describe prints the service from the peer's descriptors", async () => {
    const run = await runFerry(["describe", peer.target, ECHO]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`rpc Bidi(stream ferry.test.v1.EchoRequest) returns (stream ferry.test.v1.EchoResponse);`);
  });

  it("calls unary (with metadata) and server-streaming methods", async () => {
    const unary = await runFerry(["call", peer.target, `${ECHO}/Echo`, "-d", '{"text":"hello"}', "-H", "x-who: ferry"]);
    expect(unary.code).toBe(0);
    expect(jsonLines(unary.stdout)).toEqual([{ text: "grpc-js: hello for ferry" }]);
    const stream = await runFerry(["call", peer.target, `${ECHO}/ServerStream`, "-d", '{"text":"s","count":2}']);
    expect(jsonLines(stream.stdout)).toEqual([{ text: "s" }, { text: "s", index: 1 }]);
  });

  it("the peer's error status becomes the exit status", async () => {
    const run = await runFerry(["call", peer.target, `${ECHO}/ClientStream`, "-d", '{"text":"a"}']);
    expect(run.code).toBe(12);
    expect(run.stderr.trim()).toBe("ERROR: UNIMPLEMENTED: not here");
  });

  it("falls back to reflection v1alpha when the server has no v1", async () => {
    const old = await startGrpcJsServer(true);
    try {
      const list = await runFerry(["list", old.target]);
      expect(list.code).toBe(0);
      expect(list.stdout).toBe(`${ECHO}\n`);
      const call = await runFerry(["call", old.target, `${ECHO}/Echo`, "-d", '{"text":"old"}']);
      expect(jsonLines(call.stdout)).toEqual([{ text: "grpc-js: old" }]);
    } finally {
      await new Promise<void>((resolve) => old.server.tryShutdown(() => resolve()));
    }
  });
});
