/**
 * Keepalive (gRFC A8), connection idle and age limits (gRFC A9) and the
 * two-phase GOAWAY graceful shutdown of the grpc transport, on real sockets.
 */
import http2 from "node:http2";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Code, createClient, createServer, type Server } from "../src/index.js";
import { createGrpcServerTransport, createGrpcTransport, type GrpcServerOptions, type GrpcTransport } from "../src/transport/grpc/index.js";
import { EchoRequestSchema } from "./gen/ferry/test/v1/echo_pb.js";
import { EchoService, echoImpl } from "./support/echo-service.js";
import { messageFrame, rawCall, rawSession, until } from "./support/raw-grpc.js";
import { rejection } from "./support/rejection.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const ECHO = "/ferry.test.v1.EchoService/Echo";
const cleanup: (() => Promise<unknown> | void)[] = [];

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function startServer(options: GrpcServerOptions = {}): Promise<{ server: Server; url: string }> {
  const server = createServer({ logger: quiet }).service(EchoService, echoImpl);
  const { url } = await server.listen(createGrpcServerTransport({ port: 0, ...options }));
  cleanup.push(() => server.shutdown(50));
  return { server, url };
}

function transport(url: string, options: Partial<Parameters<typeof createGrpcTransport>[0]> = {}): GrpcTransport {
  const t = createGrpcTransport({ baseUrl: url, ...options });
  cleanup.push(() => t.close());
  return t;
}

/** Records the GOAWAY frames a raw session receives. */
function recordGoaways(session: http2.ClientHttp2Session): { code: number; lastStreamId: number; data: string }[] {
  const seen: { code: number; lastStreamId: number; data: string }[] = [];
  session.on("goaway", (code, lastStreamId, data) => seen.push({ code, lastStreamId, data: data?.toString() ?? "" }));
  return seen;
}

describe("grpc keepalive", () => {
  it("the client pings every keepaliveTimeMs", async () => {
    const server = http2.createServer();
    let pings = 0;
    const sessions: http2.ServerHttp2Session[] = [];
    server.on("session", (s) => (sessions.push(s), s.on("ping", () => pings++)));
    cleanup.push(() => sessions.forEach((s) => s.destroy()));
    server.on("stream", (stream) => stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "0" }, { endStream: true }));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const t = transport(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { keepaliveTimeMs: 20, keepalivePermitWithoutCalls: true });
    await rejection(createClient(EchoService, t).echo({}));
    await until(() => pings >= 3);
  });

  it("a ping left unanswered fails the call in flight with UNAVAILABLE", async () => {
    const { url } = await startServer({ keepaliveMinTimeMs: 1 });
    const proxy = await blackholeProxy(Number(new URL(url).port));
    const t = transport(`http://127.0.0.1:${proxy.port}`, { keepaliveTimeMs: 30, keepaliveTimeoutMs: 100 });
    const client = createClient(EchoService, t);
    expect((await client.echo({ text: "warm" })).text).toBe("warm");
    const pending = client.echo({ text: "stuck", delayMs: 10_000 });
    await new Promise((r) => setTimeout(r, 20));
    proxy.freeze();
    const err = await rejection(pending);
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.rawMessage).toMatch(/keepalive ping not acknowledged/);
  });

  it("the server answers too frequent pings with GOAWAY ENHANCE_YOUR_CALM too_many_pings", async () => {
    const { url } = await startServer({ keepaliveMinTimeMs: 60_000, keepalivePermitWithoutCalls: true });
    const session = await rawSession(url);
    cleanup.push(() => void session.destroy());
    const goaways = recordGoaways(session);
    for (let i = 0; i < 5 && !session.destroyed; i++) await new Promise((r) => session.ping(() => r(undefined)));
    await until(() => goaways.length > 0);
    expect(goaways[0]).toMatchObject({ code: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, data: "too_many_pings" });
  });

  it("pings that follow DATA the server sent are never strikes: a long download probed with pings completes (gRFC A8)", async () => {
    const server = createServer({ logger: quiet }).service(EchoService, {
      async *serverStream({ count }) {
        for (let index = 0; index < count; index++) {
          await new Promise((r) => setTimeout(r, 2));
          yield { index };
        }
      },
    });
    const { url } = await server.listen(createGrpcServerTransport({ port: 0, keepaliveMinTimeMs: 60_000 }));
    cleanup.push(() => server.shutdown(50));
    const session = await rawSession(url);
    cleanup.push(() => void session.destroy());
    const goaways = recordGoaways(session);
    let pings = 0;
    let pinging = false;
    const req = session.request({ ":method": "POST", ":path": "/ferry.test.v1.EchoService/ServerStream", "content-type": "application/grpc", te: "trailers" });
    req.on("data", () => {
      // Like C-core's BDP probe: a PING after each burst of DATA, one at a time.
      if (pinging || session.destroyed) return;
      pinging = true;
      session.ping(() => {
        pings++;
        pinging = false;
      });
    });
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => {
      req.on("trailers", resolve);
      req.on("close", () => resolve({}));
    });
    req.on("error", () => undefined);
    req.end(messageFrame(EchoRequestSchema, { count: 60 }));
    expect((await trailers)["grpc-status"]).toBe("0");
    expect(pings).toBeGreaterThan(3);
    expect(goaways).toEqual([]);
  });

  it("pings on a call whose server sends nothing are still strikes", async () => {
    const server = createServer({ logger: quiet }).service(EchoService, {
      async *serverStream(_req, ctx) {
        await new Promise((r) => ctx.signal.addEventListener("abort", r));
        yield {};
      },
    });
    const { url } = await server.listen(createGrpcServerTransport({ port: 0, keepaliveMinTimeMs: 60_000 }));
    cleanup.push(() => server.shutdown(50));
    const session = await rawSession(url);
    cleanup.push(() => void session.destroy());
    const goaways = recordGoaways(session);
    const req = session.request({ ":method": "POST", ":path": "/ferry.test.v1.EchoService/ServerStream", "content-type": "application/grpc", te: "trailers" });
    req.on("error", () => undefined);
    req.end(messageFrame(EchoRequestSchema, { count: 1 }));
    for (let i = 0; i < 5 && !session.destroyed; i++) await new Promise((r) => session.ping(() => r(undefined)));
    await until(() => goaways.length > 0);
    expect(goaways[0]).toMatchObject({ code: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, data: "too_many_pings" });
  });

  it("a client told too_many_pings doubles its keepalive interval and keeps working", async () => {
    const { url } = await startServer({ keepaliveMinTimeMs: 60_000, keepalivePermitWithoutCalls: true });
    const t = transport(url, { keepaliveTimeMs: 10, keepalivePermitWithoutCalls: true });
    const client = createClient(EchoService, t);
    await client.echo({ text: "a" });
    await until(() => t.keepaliveTimeMs === 20);
    expect((await client.echo({ text: "after" })).text).toBe("after");
  });

  it("pings within the permitted interval are tolerated", async () => {
    const { url } = await startServer({ keepaliveMinTimeMs: 1, keepalivePermitWithoutCalls: true });
    const t = transport(url, { keepaliveTimeMs: 10, keepalivePermitWithoutCalls: true });
    await createClient(EchoService, t).echo({});
    await new Promise((r) => setTimeout(r, 100));
    expect(t.keepaliveTimeMs).toBe(10);
  });
});

describe("grpc connection limits", () => {
  it("a burst of calls beyond the server's MAX_CONCURRENT_STREAMS on a new connection all succeed (queued or transparently resent)", async () => {
    const server = createServer({ logger: quiet }).service(EchoService, {
      echo: async ({ text }) => {
        await new Promise((r) => setTimeout(r, 20));
        return { text };
      },
    });
    const { url } = await server.listen(createGrpcServerTransport({ port: 0, maxConcurrentStreams: 50 }));
    cleanup.push(() => server.shutdown(50));
    const client = createClient(EchoService, transport(url));
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => client.echo({ text: String(i) })));
    expect(replies.map((r) => r.text)).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
  });

  it("maxConnectionIdleMs: an idle connection gets a graceful GOAWAY max_idle; clients reconnect", async () => {
    const { url } = await startServer({ maxConnectionIdleMs: 50 });
    const session = await rawSession(url);
    cleanup.push(() => void session.destroy());
    const goaways = recordGoaways(session);
    expect((await rawCall(session, ECHO, messageFrame(EchoRequestSchema, { text: "x" }))).grpcStatus).toBe("0");
    await until(() => goaways.length > 0);
    expect(goaways[0]).toMatchObject({ code: http2.constants.NGHTTP2_NO_ERROR, data: "max_idle" });
    const t = transport(url);
    expect((await createClient(EchoService, t).echo({ text: "fresh" })).text).toBe("fresh");
  });

  it("maxConnectionAgeMs: an old connection gets GOAWAY max_age and a call in flight still completes", async () => {
    const { url } = await startServer({ maxConnectionAgeMs: 100, maxConnectionAgeGraceMs: 5000 });
    const session = await rawSession(url);
    cleanup.push(() => void session.destroy());
    const goaways = recordGoaways(session);
    const res = await rawCall(session, ECHO, messageFrame(EchoRequestSchema, { text: "slow", delayMs: 300 }));
    expect(res.grpcStatus).toBe("0");
    expect(goaways.map((g) => g.data)).toContain("max_age");
  });

  it("maxConnectionAgeGraceMs: calls still running after the grace are cut off", async () => {
    const { url } = await startServer({ maxConnectionAgeMs: 50, maxConnectionAgeGraceMs: 50 });
    const t = transport(url);
    const err = await rejection(createClient(EchoService, t).echo({ text: "too slow", delayMs: 10_000 }));
    expect([Code.UNAVAILABLE, Code.CANCELLED, Code.INTERNAL]).toContain(err.code);
  });
});

describe("grpc graceful shutdown", () => {
  it("sends GOAWAY twice (max stream id, then the last one accepted) and lets calls in flight finish", async () => {
    const { server, url } = await startServer();
    const session = await rawSession(url);
    cleanup.push(() => void session.destroy());
    const goaways = recordGoaways(session);
    const inFlight = rawCall(session, ECHO, messageFrame(EchoRequestSchema, { text: "finishing", delayMs: 200 }));
    await new Promise((r) => setTimeout(r, 30));
    const stopping = server.shutdown(5000);
    const res = await inFlight;
    await stopping;
    expect(res.grpcStatus).toBe("0");
    expect(goaways[0]).toMatchObject({ code: 0, lastStreamId: 2 ** 31 - 1 });
    expect(goaways.at(-1)).toMatchObject({ code: 0, lastStreamId: 1 });
  });

  it("cancels calls still running when the grace period ends", async () => {
    const { server, url } = await startServer();
    const t = transport(url);
    echoImpl.lastSignal = undefined;
    const pending = rejection(createClient(EchoService, t).echo({ text: "forever", delayMs: 60_000 }));
    await until(() => echoImpl.lastSignal !== undefined);
    await server.shutdown(50);
    expect(echoImpl.lastSignal!.aborted).toBe(true);
    expect([Code.UNAVAILABLE, Code.CANCELLED]).toContain((await pending).code);
  });

  it("refuses new calls once draining", async () => {
    const { server, url } = await startServer();
    const t = transport(url);
    const client = createClient(EchoService, t);
    echoImpl.lastSignal = undefined;
    const slow = client.echo({ delayMs: 200 });
    await until(() => echoImpl.lastSignal !== undefined);
    const stopping = server.shutdown(2000);
    await new Promise((r) => setTimeout(r, 50));
    expect((await rejection(client.echo({ text: "late" }))).code).toBe(Code.UNAVAILABLE);
    await slow;
    await stopping;
  });
});

/** A TCP proxy to 127.0.0.1:`port` whose traffic can be frozen (both directions stop, sockets stay open). */
async function blackholeProxy(port: number): Promise<{ port: number; freeze(): void }> {
  const sockets: net.Socket[] = [];
  let frozen = false;
  const server = net.createServer((inbound) => {
    const outbound = net.connect(port, "127.0.0.1");
    sockets.push(inbound, outbound);
    inbound.on("data", (d) => frozen || outbound.write(d));
    outbound.on("data", (d) => frozen || inbound.write(d));
    inbound.on("error", () => undefined);
    outbound.on("error", () => undefined);
    inbound.on("close", () => outbound.destroy());
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { port: (server.address() as net.AddressInfo).port, freeze: () => (frozen = true) };
}
