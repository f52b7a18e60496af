/**
 * Hardening of the grpc transport: each test attacks a real server over a
 * socket and checks that a normal client beside it keeps working.
 */
import http2 from "node:http2";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, type Server, type ServiceImpl } from "../src/index.js";
import { createGrpcServerTransport, createGrpcTransport, type GrpcTransport } from "../src/transport/grpc/index.js";
import { JsonProbeService } from "./gen/ferry/hardening/v1/json_probe_pb.js";
import { EchoRequestSchema, EchoService } from "./gen/ferry/test/v1/echo_pb.js";
import { echoImpl } from "./support/echo-service.js";
import { grpcFrame, messageFrame, rawCall, rawSession, until } from "./support/raw-grpc.js";
import { rejection } from "./support/rejection.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const ECHO = "/ferry.test.v1.EchoService/Echo";
const MAX_STREAMS = 50;

/** Handler concurrency, including handlers that ignore cancellation and keep running after a reset. */
const load = { active: 0, max: 0, started: 0 };
const impl: ServiceImpl<typeof EchoService> = {
  ...echoImpl,
  async clientStream() {
    load.started++;
    load.max = Math.max(load.max, ++load.active);
    await new Promise((r) => setTimeout(r, 20));
    load.active--;
    return { text: "done" };
  },
};

describe("grpc hardening", () => {
  let server: Server;
  let url: string;
  let transport: GrpcTransport;
  let client: ReturnType<typeof createClient<typeof EchoService>>;

  beforeAll(async () => {
    server = createServer({ logger: quiet, maxReceiveMessageBytes: 1024 * 1024 })
      .service(EchoService, impl)
      .service(JsonProbeService, {
        probe: (req) => ({ keys: [...Object.keys(req.document ?? {}), ...Object.keys(req.labels)].sort() }),
      });
    ({ url } = await server.listen(createGrpcServerTransport({ port: 0, maxConcurrentStreams: MAX_STREAMS })));
    transport = createGrpcTransport({ baseUrl: url });
    client = createClient(EchoService, transport);
  });
  afterAll(async () => {
    await transport.close();
    await server.shutdown(100);
  });

  async function stillServing(): Promise<void> {
    expect((await client.echo({ text: "still here" })).text).toBe("still here");
  }

  it("rapid reset (CVE-2023-44487): open-then-cancel floods close the connection; handlers in flight stay bounded", async () => {
    load.max = 0;
    const session = await rawSession(url);
    const goaways: { code: number; data: string }[] = [];
    session.on("goaway", (code, _id, data) => goaways.push({ code, data: data?.toString() ?? "" }));
    let opened = 0;
    const deadline = Date.now() + 10_000;
    while (opened < 20_000 && !session.destroyed && !session.closed && Date.now() < deadline) {
      for (let i = 0; i < 200 && !session.destroyed && !session.closed; i++, opened++) {
        try {
          const s = session.request({ ":method": "POST", ":path": "/ferry.test.v1.EchoService/ClientStream", "content-type": "application/grpc", te: "trailers" });
          s.on("error", () => undefined);
          s.close(http2.constants.NGHTTP2_CANCEL);
        } catch {
          break;
        }
      }
      await new Promise((r) => setImmediate(r));
      if (opened % 2000 === 0) await stillServing();
    }
    await until(() => session.destroyed || session.closed, 5000);
    session.destroy();
    expect(goaways.some((g) => g.code === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM), JSON.stringify({ goaways, opened })).toBe(true);
    expect(opened).toBeLessThan(20_000);
    expect(load.max).toBeLessThanOrEqual(MAX_STREAMS);
    await stillServing();
  });

  it("max concurrent streams: calls over the limit wait for a free stream instead of running", async () => {
    await stillServing(); // the client knows the server's SETTINGS from here on
    load.max = 0;
    async function* one() {
      yield { text: "x" };
    }
    const results = await Promise.all(Array.from({ length: MAX_STREAMS * 3 }, () => client.clientStream(one())));
    expect(results.every((r) => r.text === "done")).toBe(true);
    expect(load.max).toBeLessThanOrEqual(MAX_STREAMS);
  });

  describe("header list size", () => {
    it("a Ferry client gets RESOURCE_EXHAUSTED naming the limit for metadata over 8 KiB", async () => {
      const err = await rejection(client.echo({ text: "big" }, { metadata: { "x-big": "a".repeat(9 * 1024) } }));
      expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(err.rawMessage).toMatch(/header/);
      await stillServing();
    });

    it("a raw client sending metadata over the limit (before it knows the server's SETTINGS) gets RESOURCE_EXHAUSTED", async () => {
      const session = await rawSession(url);
      const res = await rawCall(session, ECHO, messageFrame(EchoRequestSchema, { text: "x" }), { "x-big": "b".repeat(9 * 1024) });
      session.destroy();
      expect(res.grpcStatus).toBe(String(Code.RESOURCE_EXHAUSTED));
      expect(res.headers["grpc-message"]).toMatch(/exceed the server's limit of 8192 bytes/);
      await stillServing();
    });

    it("metadata just under the limit passes", async () => {
      expect((await client.echo({ text: "fits" }, { metadata: { "x-fits": "c".repeat(6 * 1024) } })).text).toBe("fits");
    });
  });

  describe("message length prefix", () => {
    it("a prefix declaring a 4 GiB message is rejected from the prefix alone, before the body arrives", async () => {
      const session = await rawSession(url);
      const prefix = Buffer.from([0, 0xff, 0xff, 0xff, 0xff]);
      const res = await new Promise<http2.IncomingHttpHeaders>((resolve) => {
        const s = session.request({ ":method": "POST", ":path": ECHO, "content-type": "application/grpc", te: "trailers" });
        s.on("response", (h) => resolve(h));
        s.on("error", () => undefined);
        s.write(prefix); // and never the 4 GiB body, nor END_STREAM
      });
      session.destroy();
      expect(res["grpc-status"]).toBe(String(Code.RESOURCE_EXHAUSTED));
      expect(res["grpc-message"]).toMatch(/4294967295 bytes exceeds the limit of 1048576/);
      await stillServing();
    });

    it("an invalid flag byte is INTERNAL", async () => {
      const session = await rawSession(url);
      const bad = grpcFrame(new Uint8Array(0));
      bad[0] = 7;
      const res = await rawCall(session, ECHO, bad);
      session.destroy();
      expect(res.grpcStatus).toBe(String(Code.INTERNAL));
    });

    it("a request ending inside a message is INTERNAL", async () => {
      const session = await rawSession(url);
      const res = await rawCall(session, ECHO, messageFrame(EchoRequestSchema, { text: "cut short" }).subarray(0, 8));
      session.destroy();
      expect(res.grpcStatus).toBe(String(Code.INTERNAL));
      expect(res.headers["grpc-message"] ?? res.trailers["grpc-message"]).toMatch(/ended inside a message/);
    });
  });

  describe("malformed input", () => {
    it("garbage HTTP/2 frames get the connection closed, and the server keeps serving", async () => {
      const port = Number(new URL(url).port);
      const socket = net.connect(port, "127.0.0.1");
      socket.on("error", () => undefined);
      await new Promise((r) => socket.once("connect", r));
      const closed = new Promise((r) => socket.once("close", r));
      const received: Buffer[] = [];
      socket.on("data", (d: Buffer) => received.push(d));
      socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      // A frame header announcing a 16 MiB DATA frame on stream 0, then junk.
      socket.write(Buffer.from([0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, ...Buffer.from("junk junk junk")]));
      await closed;
      // The server answered with its SETTINGS and a GOAWAY (frame type 7), then closed.
      const frames = Buffer.concat(received);
      expect(frames.includes(Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x00]))).toBe(true);
      await stillServing();
    });

    it.each(["123456789S", "10X", "-5S", "", "5"])("an invalid grpc-timeout %j is INTERNAL", async (value) => {
      const session = await rawSession(url);
      const res = await rawCall(session, ECHO, messageFrame(EchoRequestSchema, { text: "t" }), { "grpc-timeout": value });
      session.destroy();
      expect(res.grpcStatus).toBe(String(Code.INTERNAL));
      expect(res.headers["grpc-message"]).toMatch(/invalid grpc-timeout/);
    });

    it("wrong content types are refused: text/plain 415, application/grpc+json INTERNAL, GET 405", async () => {
      const session = await rawSession(url);
      const body = messageFrame(EchoRequestSchema, { text: "t" });
      expect((await rawCall(session, ECHO, body, { "content-type": "text/plain" })).status).toBe(415);
      expect((await rawCall(session, ECHO, body, { "content-type": "application/grpc+json" })).grpcStatus).toBe(String(Code.INTERNAL));
      expect((await rawCall(session, ECHO, body, { ":method": "GET" })).status).toBe(405);
      session.destroy();
      await stillServing();
    });
  });

  describe("JSON bodies (Connect)", () => {
    const post = (body: string) =>
      fetch(`${url.replace("grpc:", "http:")}/ferry.hardening.v1.JsonProbeService/Probe`, { method: "POST", headers: { "content-type": "application/json" }, body });

    it("__proto__ and constructor keys stay plain data and never reach prototypes", async () => {
      const res = await post('{"document":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}},"labels":{"__proto__":"x","constructor":"y"}}');
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body).toEqual({ keys: ["__proto__", "__proto__", "constructor", "constructor"] });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty("polluted");
    });

    it("a top-level __proto__ key is an unknown field: INVALID_ARGUMENT", async () => {
      const res = await post('{"__proto__":{"polluted":"yes"}}');
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_argument" });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });
});
