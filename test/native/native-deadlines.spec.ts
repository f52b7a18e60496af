import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, FerryError, type CallContext, type Server, type ServiceImpl } from "../../src/index.js";
import { createNativeServerTransport, createNativeTransport } from "../../src/transport/native/index.js";
import { FrameType, PREFACE_MAGIC } from "../../src/transport/native/native-protocol.js";
import { EchoRequestSchema, EchoService } from "../gen/ferry/test/v1/echo_pb.js";
import { rejection } from "../support/rejection.js";
import { call, RawPeer, settings, waitUntil } from "./raw-peer.js";

const seen: { deadline?: number; requestError?: FerryError; signalReason?: FerryError; generatorClosed?: boolean } = {};

function sleep(ms: number, ctx?: CallContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    ctx?.signal.addEventListener("abort", () => {
      clearTimeout(t);
      reject(ctx.signal.reason);
    }, { once: true });
  });
}

const impl: ServiceImpl<typeof EchoService> = {
  async echo(req, ctx) {
    seen.deadline = ctx.deadline;
    await sleep(req.delayMs, ctx);
    return { text: req.text };
  },
  async *serverStream(req, ctx) {
    for (let i = 0; i < req.count; i++) {
      await sleep(req.delayMs, ctx);
      yield { index: i };
    }
  },
  async clientStream(reqs, ctx) {
    ctx.signal.addEventListener("abort", () => (seen.signalReason = ctx.signal.reason as FerryError), { once: true });
    let n = 0;
    try {
      for await (const _ of reqs) n++;
    } catch (err) {
      seen.requestError = err as FerryError;
      throw err;
    }
    return { index: n };
  },
  async *bidi(reqs, ctx) {
    ctx.signal.addEventListener("abort", () => (seen.signalReason = ctx.signal.reason as FerryError), { once: true });
    let i = 0;
    for await (const r of reqs) {
      if (r.failCode !== 0) throw new FerryError(r.failCode as Code, "bidi failed on purpose");
      yield { text: r.text, index: i++ };
    }
  },
};

describe("native transport: deadlines and cancellation in both directions", () => {
  let server: Server;
  let port: number;
  let transport: ReturnType<typeof createNativeTransport>;
  let client: ReturnType<typeof createClient<typeof EchoService>>;

  beforeAll(async () => {
    server = createServer({ logger: { error() {}, warn() {}, info() {}, debug() {} } }).service(EchoService, impl);
    const { url } = await server.listen(createNativeServerTransport({ port: 0 }));
    port = Number(new URL(url).port);
    transport = createNativeTransport({ port });
    client = createClient(EchoService, transport);
  });
  afterAll(async () => {
    await transport.close();
    await server.shutdown(100);
  });

  it("the client's deadline reaches the handler as a relative timeout", async () => {
    const before = Date.now();
    await client.echo({ text: "d" }, { timeoutMs: 5000 });
    expect(seen.deadline).toBeGreaterThanOrEqual(before + 4900);
    expect(seen.deadline).toBeLessThanOrEqual(Date.now() + 5000);
  });

  it("the server enforces the deadline by itself and answers DEADLINE_EXCEEDED (a peer without its own timer)", async () => {
    const peer = await RawPeer.connect(port).then((p) => p.handshake());
    const started = Date.now();
    peer.send(call(1, "/ferry.test.v1.EchoService/Echo", { timeoutMs: 50, message: toBinary(EchoRequestSchema, create(EchoRequestSchema, { delayMs: 5000 })) }));
    const res = await peer.waitFor((f) => f.id === 1 && f.type === FrameType.HEADERS);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.payload[2]).toBe(Code.DEADLINE_EXCEEDED);
    peer.close();
  });

  it("a deadline ends a server stream on the client with DEADLINE_EXCEEDED", async () => {
    let n = 0;
    const run = async () => {
      for await (const _ of client.serverStream({ count: 1000, delayMs: 20 }, { timeoutMs: 150 })) n++;
    };
    const err = await rejection(run());
    expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(n).toBeGreaterThan(0);
  });

  it("cancelling a client stream fails the handler's request iterator with CANCELLED and fires its signal", async () => {
    seen.requestError = undefined;
    seen.signalReason = undefined;
    const ac = new AbortController();
    async function* reqs() {
      for (let i = 0; ; i++) {
        yield { text: String(i) };
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const pending = client.clientStream(reqs(), { signal: ac.signal });
    setTimeout(() => ac.abort(), 80);
    expect((await rejection(pending)).code).toBe(Code.CANCELLED);
    await waitUntil(() => seen.requestError !== undefined && seen.signalReason !== undefined);
    expect((seen.requestError as FerryError | undefined)?.code).toBe(Code.CANCELLED);
    expect((seen.signalReason as FerryError | undefined)?.code).toBe(Code.CANCELLED);
  });

  it("a handler failing mid-bidi ends the client's iterator with its code and stops the client's request stream", async () => {
    let closed = false;
    async function* reqs() {
      try {
        yield { text: "a" };
        yield { text: "b" };
        yield { text: "boom", failCode: Code.ABORTED };
        for (;;) {
          await new Promise((r) => setTimeout(r, 5));
          yield { text: "more" };
        }
      } finally {
        closed = true;
      }
    }
    const got: string[] = [];
    const run = async () => {
      for await (const m of client.bidi(reqs())) got.push(m.text);
    };
    const err = await rejection(run());
    expect(err).toMatchObject({ code: Code.ABORTED, rawMessage: "bidi failed on purpose" });
    expect(got).toEqual(["a", "b"]);
    await waitUntil(() => closed);
  });

  it("abandoning a bidi stream cancels the handler", async () => {
    seen.signalReason = undefined;
    async function* reqs() {
      for (let i = 0; ; i++) {
        yield { text: String(i) };
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    for await (const m of client.bidi(reqs())) if (m.index === 2) break;
    await waitUntil(() => seen.signalReason !== undefined);
    expect((seen.signalReason as FerryError | undefined)?.code).toBe(Code.CANCELLED);
  });
});

describe("native transport: keepalive", () => {
  it("a client detects a server that stopped answering (dead peer) and fails its calls with UNAVAILABLE", async () => {
    // A "server" that completes the handshake, then never answers anything (not even PINGs).
    const sockets: net.Socket[] = [];
    const mute = net.createServer((s) => {
      sockets.push(s);
      s.on("error", () => undefined);
      s.write(Buffer.concat([PREFACE_MAGIC, Buffer.from([1, 0]), settings()]));
    });
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", r));
    const quiet = { error() {}, warn() {}, info() {}, debug() {} };
    const transport = createNativeTransport({ port: (mute.address() as net.AddressInfo).port, keepaliveIntervalMs: 100, keepaliveTimeoutMs: 100, logger: quiet });
    const client = createClient(EchoService, transport);
    const started = Date.now();
    const err = await rejection(client.echo({ text: "anyone there?" }));
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.rawMessage).toMatch(/did not answer a keepalive PING within 100 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
    await transport.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => mute.close(r));
  });

  it("keeps a healthy idle connection open: PINGs are answered on both sides", async () => {
    const quiet = { error() {}, warn() {}, info() {}, debug() {} };
    const peers: string[] = [];
    const server = createServer({ logger: quiet }).service(EchoService, {
      echo: (req, ctx) => {
        peers.push(ctx.peer);
        return { text: req.text };
      },
    });
    const { url } = await server.listen(createNativeServerTransport({ port: 0, keepaliveIntervalMs: 50, keepaliveTimeoutMs: 50 }));
    const transport = createNativeTransport({ port: Number(new URL(url).port), keepaliveIntervalMs: 50, keepaliveTimeoutMs: 50, logger: quiet });
    const client = createClient(EchoService, transport);
    await client.echo({ text: "before" });
    await sleep(400); // several keepalive rounds while idle
    await client.echo({ text: "after" });
    expect(peers).toHaveLength(2);
    expect(peers[1]).toBe(peers[0]); // same client port: the connection survived
    await transport.close();
    await server.shutdown(100);
  });

  it("reconnects after the server went away and came back on the same port", async () => {
    const quiet = { error() {}, warn() {}, info() {}, debug() {} };
    const first = createServer({ logger: quiet }).service(EchoService, impl);
    const { url } = await first.listen(createNativeServerTransport({ port: 0 }));
    const port = Number(new URL(url).port);
    const transport = createNativeTransport({ port, logger: quiet });
    const client = createClient(EchoService, transport);
    expect((await client.echo({ text: "one" })).text).toBe("one");
    await first.shutdown(100);
    expect((await rejection(client.echo({ text: "down" }))).code).toBe(Code.UNAVAILABLE);
    const second = createServer({ logger: quiet }).service(EchoService, impl);
    await second.listen(createNativeServerTransport({ port }));
    expect((await client.echo({ text: "two" })).text).toBe("two");
    await transport.close();
    await second.shutdown(100);
  });

  it("a client that cannot connect fails with UNAVAILABLE", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const transport = createNativeTransport({ port });
    const err = await rejection(createClient(EchoService, transport).echo({}));
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.rawMessage).toMatch(/ECONNREFUSED/);
    await transport.close();
  });
});
