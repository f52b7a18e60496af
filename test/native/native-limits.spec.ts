import { spawn } from "node:child_process";
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, type Server } from "../../src/index.js";
import { createNativeTransport } from "../../src/transport/native/index.js";
import { FrameType } from "../../src/transport/native/native-protocol.js";
import { EchoService, echoImpl } from "../support/echo-service.js";
import { rejection } from "../support/rejection.js";
import { call, frame, RawPeer, startNativeEcho } from "./raw-peer.js";

/** Reads the status code of a HEADERS(END_STREAM) frame without response metadata. */
function statusOf(payload: Buffer): { code: number; message: string } {
  const mdCount = payload.readUInt16BE(0);
  expect(mdCount).toBe(0);
  const len = payload.readUInt32BE(3);
  return { code: payload[2], message: payload.toString("utf8", 7, 7 + len) };
}

describe("native transport: limits", () => {
  let server: Server;
  let port: number;
  const transports: ReturnType<typeof createNativeTransport>[] = [];
  const connect = (options: Parameters<typeof createNativeTransport>[0] = {}) => {
    const t = createNativeTransport({ port, ...options });
    transports.push(t);
    return createClient(EchoService, t);
  };

  beforeAll(async () => {
    ({ server, port } = await startNativeEcho({ maxConcurrentStreams: 4, maxMetadataBytes: 1024 }, { maxReceiveMessageBytes: 64 * 1024 }));
  });
  afterAll(async () => {
    for (const t of transports) await t.close();
    await server.shutdown(100);
  });

  it("a request message over the server's maxReceiveMessageBytes fails with RESOURCE_EXHAUSTED; the connection stays usable", async () => {
    const client = connect();
    const err = await rejection(client.echo({ payload: new Uint8Array(64 * 1024 + 1) }));
    expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(err.rawMessage).toMatch(/exceeds the limit of 65536 bytes/);
    expect((await client.echo({ text: "next" })).text).toBe("next");
  });

  it("a streamed request message over the limit fails the call with RESOURCE_EXHAUSTED", async () => {
    const client = connect();
    async function* reqs() {
      yield { text: "a" };
      yield { text: "b", payload: new Uint8Array(70 * 1024) };
    }
    const err = await rejection(client.clientStream(reqs()));
    expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect((await client.echo({ text: "next" })).text).toBe("next");
  });

  it("a response message over the client's maxReceiveMessageBytes fails with RESOURCE_EXHAUSTED", async () => {
    const client = connect({ maxReceiveMessageBytes: 1000 });
    const err = await rejection(client.echo({ payload: new Uint8Array(2000) }));
    expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(err.rawMessage).toMatch(/response message of \d+ bytes exceeds the limit of 1000 bytes/);
  });

  it("request metadata over maxMetadataBytes fails with RESOURCE_EXHAUSTED", async () => {
    const client = connect();
    const err = await rejection(client.echo({ text: "x" }, { metadata: { "x-big": "v".repeat(2000) } }));
    expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(err.rawMessage).toMatch(/request metadata of \d+ bytes exceeds the limit of 1024 bytes/);
  });

  it("a client queues calls above the server's concurrent-stream limit instead of failing them", async () => {
    const client = connect();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => client.echo({ text: String(i), delayMs: 20 })));
    expect(results.map((r) => r.text)).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  it("a peer that ignores the concurrent-stream limit gets RESOURCE_EXHAUSTED for the excess calls", async () => {
    const peer = await RawPeer.connect(port).then((p) => p.handshake());
    const { EchoRequestSchema } = await import("../gen/ferry/test/v1/echo_pb.js");
    const { create, toBinary } = await import("@bufbuild/protobuf");
    const slow = toBinary(EchoRequestSchema, create(EchoRequestSchema, { delayMs: 300 }));
    peer.send(...Array.from({ length: 5 }, (_, i) => call(i + 1, "/ferry.test.v1.EchoService/Echo", { message: slow })));
    const refused = await peer.waitFor((f) => f.type === FrameType.HEADERS && f.id === 5);
    expect(statusOf(refused.payload)).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, message: expect.stringMatching(/too many concurrent calls/) });
    peer.close();
  });

  it("accepts a unary request sent as CALL, MESSAGE and HALF_CLOSE; rejects a second message with UNIMPLEMENTED", async () => {
    const peer = await RawPeer.connect(port).then((p) => p.handshake());
    const { EchoRequestSchema } = await import("../gen/ferry/test/v1/echo_pb.js");
    const { create, toBinary } = await import("@bufbuild/protobuf");
    const msg = toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "split" }));
    peer.send(call(1, "/ferry.test.v1.EchoService/Echo"), frame(1, FrameType.MESSAGE, 0, msg), frame(1, FrameType.HALF_CLOSE, 0));
    const ok = await peer.waitFor((f) => f.id === 1 && f.type === FrameType.HEADERS);
    expect(ok.payload.toString("latin1")).toContain("split");
    peer.send(call(2, "/ferry.test.v1.EchoService/Echo"), frame(2, FrameType.MESSAGE, 0, msg), frame(2, FrameType.MESSAGE, 1, msg));
    const twice = await peer.waitFor((f) => f.id === 2);
    expect(statusOf(twice.payload)).toMatchObject({ code: Code.UNIMPLEMENTED, message: expect.stringMatching(/takes one request message, received more/) });
    peer.send(call(3, "/ferry.test.v1.EchoService/Echo"), frame(3, FrameType.HALF_CLOSE, 0));
    const none = await peer.waitFor((f) => f.id === 3);
    expect(statusOf(none.payload)).toMatchObject({ code: Code.UNIMPLEMENTED, message: expect.stringMatching(/received none/) });
    peer.close();
  });

  it("an unknown method answers UNIMPLEMENTED, also when named by a method id", async () => {
    const peer = await RawPeer.connect(port).then((p) => p.handshake());
    peer.send(call(1, "/nope.Service/Method", { message: new Uint8Array(), defineId: 7 }));
    const res = await peer.waitFor((f) => f.id === 1);
    expect(statusOf(res.payload)).toMatchObject({ code: Code.UNIMPLEMENTED, message: "unknown service nope.Service" });
    peer.send(call(2, "", { message: new Uint8Array(), methodId: 7 }));
    const again = await peer.waitFor((f) => f.id === 2);
    expect(statusOf(again.payload)).toMatchObject({ code: Code.UNIMPLEMENTED, message: "unknown service nope.Service" });
    peer.send(call(3, "/ferry.test.v1.EchoService/Nope", { message: new Uint8Array() }));
    const method = await peer.waitFor((f) => f.id === 3);
    expect(statusOf(method.payload)).toMatchObject({ code: Code.UNIMPLEMENTED, message: "unknown method Nope of service ferry.test.v1.EchoService" });
    peer.send(call(4, "", { message: new Uint8Array(), methodId: 8 }));
    await peer.closed; // an undefined method id is a protocol error
  });
});

describe("native transport: frames over the peer's MAX_FRAME_BYTES", () => {
  it("fail only their call with RESOURCE_EXHAUSTED, in both directions; the connection stays up", async () => {
    const { server, port, logger } = await startNativeEcho({}, { maxReceiveMessageBytes: 8 << 20 });
    const transport = createNativeTransport({ port });
    const client = createClient(EchoService, transport);
    const MiB = 1 << 20;
    // Request: the default client frame budget is irrelevant, the server allows 8 MiB + 64 KiB: send 9 MiB.
    const big = await rejection(client.echo({ payload: new Uint8Array(9 * MiB) }));
    expect(big.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(big.rawMessage).toMatch(/request of \d+ bytes exceeds the peer's frame limit/);
    // Response: the server may receive 5 MiB, but the client's frames are limited to 4 MiB + 64 KiB.
    const back = await rejection(client.echo({ payload: new Uint8Array(5 * MiB) }));
    expect(back.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(back.rawMessage).toMatch(/response of \d+ bytes exceeds the peer's frame limit/);
    expect((await client.echo({ text: "same connection" })).text).toBe("same connection");
    expect(logger.warnings).toEqual([]);
    await transport.close();
    await server.shutdown(100);
  });
});

describe("native transport: Unix domain sockets", () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-native-unix-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("replaces a stale socket file left by a dead server, and refuses to steal a live one", async () => {
    const path = join(dir, "stale.sock");
    // A socket file nobody listens on: a process that bound it was killed (SIGKILL leaves the file behind).
    const child = spawn(process.execPath, ["-e", `require("node:net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`]);
    await new Promise<void>((r) => child.stdout.once("data", () => r()));
    child.kill("SIGKILL");
    await new Promise<void>((r) => child.once("exit", () => r()));
    expect(lstatSync(path).isSocket()).toBe(true);
    const server = createServer().service(EchoService, echoImpl);
    const { url } = await server.listen(`native+unix://${path}`);
    expect(url).toBe(`native+unix://${path}`);
    const second = createServer().service(EchoService, echoImpl);
    await expect(second.listen(`native+unix://${path}`)).rejects.toMatchObject({ code: "EADDRINUSE" });
    const client = createClient(EchoService, url);
    expect((await client.echo({ text: "over unix" })).text).toBe("over unix");
    await server.shutdown(100);
  });

  it("round-trips a socket path with spaces and URL metacharacters through its URL", async () => {
    const path = join(dir, "a b#c?.sock");
    const server = createServer().service(EchoService, echoImpl);
    const { url } = await server.listen(`native+unix://${path.split("/").map(encodeURIComponent).join("/")}`);
    expect(decodeURIComponent(new URL(url).pathname)).toBe(path);
    expect((await createClient(EchoService, url).echo({ text: "odd path" })).text).toBe("odd path");
    await server.shutdown(100);
  });

  it("fails to listen on a path that is a regular file", async () => {
    const path = join(dir, "file");
    writeFileSync(path, "not a socket");
    const server = createServer().service(EchoService, echoImpl);
    await expect(server.listen(`native+unix://${path}`)).rejects.toThrow();
  });
});

describe("native transport: one server, several transports", () => {
  it("serves the same service on grpc:// and native:// at once; clients pick by URL scheme", async () => {
    const server = createServer().service(EchoService, echoImpl);
    const grpc = await server.listen("grpc://127.0.0.1:0");
    const native = await server.listen("native://127.0.0.1:0");
    for (const url of [grpc.url, native.url]) {
      const client = createClient(EchoService, url);
      expect((await client.echo({ text: url })).text).toBe(url);
    }
    expect(server.addresses.map((a) => a.transport)).toEqual(["grpc", "native"]);
    await server.shutdown(100);
  });

  it("rejects a native+unix:// URL without a path with INVALID_ARGUMENT", async () => {
    const server = createServer();
    await expect(server.listen("native+unix://")).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });
});
