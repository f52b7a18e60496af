import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createInProcessTransport, createServer, FerryError, Metadata, pushStream, type ClientTransport, type Server, type StreamSink } from "../src/index.js";
import { clientTransportFromUrl } from "../src/rpc/transport-registry.js";
import { EchoService, type EchoRequest } from "./gen/ferry/test/v1/echo_pb.js";

type Out = { text?: string; payload?: Uint8Array; index?: number };

/** What the handlers saw, for the assertions. */
const seen = { falseReturns: 0, sendErrors: [] as string[], finallyRan: 0, sentBeforeStop: 0 };

function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => (cond() ? resolve() : Date.now() - start > ms ? reject(new Error("condition not met in time")) : setTimeout(tick, 5));
    tick();
  });
}

/**
 * ServerStream handlers chosen by the request's text:
 * - "ordered": `count` messages with 1 KiB payloads, awaiting ready() when send() says false;
 * - "greedy": the same without ever awaiting (messages past the window are held);
 * - "fail": two messages, then RESOURCE_EXHAUSTED;
 * - "bad": one message, then a value that is not a message;
 * - "endless": sends until send() or ready() throws (the client stops reading).
 */
const impl = {
  echo: (req: EchoRequest) => ({ text: req.text }),
  bidi(requests: AsyncIterable<EchoRequest>) {
    return pushStream<Out>(async (out) => {
      for await (const r of requests) if (!out.send({ text: r.text.toUpperCase() })) await out.ready();
    });
  },
  serverStream(req: EchoRequest, ctx: { responseHeaders: Metadata; responseTrailers: Metadata }) {
    return pushStream<Out>(async (out: StreamSink<Out>) => {
      const payload = new Uint8Array(1024).fill(req.count % 251);
      switch (req.text) {
        case "ordered":
          ctx.responseHeaders.set("x-kind", "push");
          for (let i = 0; i < req.count; i++) {
            if (!out.send({ payload, index: i })) {
              seen.falseReturns++;
              await out.ready();
            }
          }
          ctx.responseTrailers.set("x-sent", String(req.count));
          return;
        case "greedy":
          for (let i = 0; i < req.count; i++) out.send({ payload, index: i });
          return;
        case "fail":
          out.send({ text: "a" });
          out.send({ text: "b" });
          throw new FerryError(Code.RESOURCE_EXHAUSTED, "quota");
        case "bad":
          out.send({ text: "ok" });
          out.send(null as never);
          return;
        case "endless":
          try {
            for (let i = 0; ; i++) {
              if (!out.send({ payload, index: i })) await out.ready();
              seen.sentBeforeStop = i;
            }
          } catch (err) {
            seen.sendErrors.push((err as FerryError).code === Code.CANCELLED ? "CANCELLED" : String(err));
          } finally {
            seen.finallyRan++;
          }
      }
    });
  },
};

const setups: [string, (server: Server) => Promise<ClientTransport>][] = [
  ["inproc", async (server) => createInProcessTransport(server)],
  ["native", async (server) => clientTransportFromUrl((await server.listen("native://127.0.0.1:0")).url)],
  ["grpc", async (server) => clientTransportFromUrl((await server.listen("grpc://127.0.0.1:0")).url)],
];

describe.each(setups)("pushStream handlers on %s", (name, setup) => {
  let server: Server;
  let transport: ClientTransport;
  let client: ReturnType<typeof createClient<typeof EchoService>>;

  beforeAll(async () => {
    const logger = { error() {}, warn() {}, info() {}, debug() {} };
    server = createServer({ logger }).service(EchoService, impl);
    transport = await setup(server);
    client = createClient(EchoService, transport);
  });
  afterAll(async () => {
    await transport.close();
    await server.shutdown(100);
  });

  it("delivers every message in order with headers and trailers, holding the producer at the receiver's window", async () => {
    seen.falseReturns = 0;
    let headers: Metadata | undefined;
    let trailers: Metadata | undefined;
    let n = 0;
    // 2000 × 1 KiB is more than one flow-control window on the network transports.
    for await (const m of client.serverStream({ text: "ordered", count: 2000 }, { onHeaders: (h) => (headers = h), onTrailers: (t) => (trailers = t) })) {
      expect(m.index).toBe(n++);
      expect(m.payload.length).toBe(1024);
    }
    expect(n).toBe(2000);
    expect(headers?.get("x-kind")).toBe("push");
    expect(trailers?.get("x-sent")).toBe("2000");
    expect(seen.falseReturns).toBeGreaterThan(0);
  });

  it("a producer that never awaits ready() still delivers everything, within the protocol's flow control", async () => {
    let n = 0;
    for await (const m of client.serverStream({ text: "greedy", count: 3000 })) expect(m.index).toBe(n++);
    expect(n).toBe(3000);
    // The connection is still healthy.
    expect((await client.echo({ text: "after" })).text).toBe("after");
  });

  it("bidi: a pushStream answers each request message", async () => {
    async function* requests() {
      for (const t of ["a", "b", "c"]) yield { text: t };
    }
    const texts: string[] = [];
    for await (const m of client.bidi(requests())) texts.push(m.text);
    expect(texts).toEqual(["A", "B", "C"]);
  });

  it("a producer's error ends the call with its code, after the messages sent before it", async () => {
    const texts: string[] = [];
    const err = await (async () => {
      for await (const m of client.serverStream({ text: "fail" })) texts.push(m.text);
    })().catch((e: unknown) => e as FerryError);
    expect(texts).toEqual(["a", "b"]);
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).code).toBe(Code.RESOURCE_EXHAUSTED);
  });

  it("sending something that is not a message fails the call with INVALID_ARGUMENT naming the type", async () => {
    const texts: string[] = [];
    const err = await (async () => {
      for await (const m of client.serverStream({ text: "bad" })) texts.push(m.text);
    })().catch((e: unknown) => e as FerryError);
    expect(texts).toEqual(["ok"]);
    expect((err as FerryError).code).toBe(Code.INVALID_ARGUMENT);
    expect((err as FerryError).rawMessage).toMatch(/ferry\.test\.v1\.EchoResponse/);
  });

  it("stops the producer with CANCELLED when the client stops reading", async () => {
    seen.sendErrors = [];
    seen.finallyRan = 0;
    let n = 0;
    for await (const _ of client.serverStream({ text: "endless" })) if (++n === 50) break;
    await waitFor(() => seen.finallyRan === 1);
    expect(seen.sendErrors).toEqual(["CANCELLED"]);
    expect(name).toBeTruthy();
  });
});
