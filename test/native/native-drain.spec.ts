import { describe, expect, it } from "vitest";
import { Code, createClient, createServer, FerryError, type ServiceImpl } from "../../src/index.js";
import { createNativeServerTransport, createNativeTransport } from "../../src/transport/native/index.js";
import { EchoService } from "../gen/ferry/test/v1/echo_pb.js";

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });
}

function trackingImpl(started: Set<string>, aborted: Set<string>): ServiceImpl<typeof EchoService> {
  return {
    async echo(req, ctx) {
      started.add(req.text);
      ctx.signal.addEventListener("abort", () => aborted.add(req.text), { once: true });
      await sleep(req.delayMs, ctx.signal);
      return { text: req.text };
    },
    async *serverStream(req, ctx) {
      started.add(req.text);
      for (let i = 0; i < req.count; i++) {
        await sleep(req.delayMs, ctx.signal);
        yield { text: req.text, index: i };
      }
    },
  };
}

async function startTracked() {
  const started = new Set<string>();
  const aborted = new Set<string>();
  const server = createServer({ logger: { error() {}, warn() {}, info() {}, debug() {} } }).service(EchoService, trackingImpl(started, aborted));
  const { url } = await server.listen(createNativeServerTransport({ port: 0 }));
  const transport = createNativeTransport({ port: Number(new URL(url).port) });
  return { server, started, aborted, transport, client: createClient(EchoService, transport) };
}

describe("native transport: graceful drain", () => {
  it("Server.shutdown() under load: every accepted call succeeds, the rest fail with UNAVAILABLE without reaching a handler", async () => {
    const { server, started, transport, client } = await startTracked();
    const outcomes = new Map<string, "ok" | FerryError>();
    let stop = false;
    let seq = 0;
    const worker = async (w: number) => {
      while (!stop) {
        const text = `w${w}-${seq++}`;
        try {
          if (w % 4 === 0) {
            let n = 0;
            for await (const _ of client.serverStream({ text, count: 5, delayMs: 10 })) n++;
            if (n !== 5) throw new Error(`stream ${text} ended after ${n} messages`);
          } else await client.echo({ text, delayMs: 15 });
          outcomes.set(text, "ok");
        } catch (err) {
          outcomes.set(text, err as FerryError);
          await sleep(5);
        }
      }
    };
    const workers = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    await sleep(150);
    const t0 = Date.now();
    await server.shutdown(5000);
    const drainMs = Date.now() - t0;
    await sleep(50);
    stop = true;
    await workers;
    await transport.close();

    const failures = [...outcomes].filter(([, o]) => o !== "ok") as [string, FerryError][];
    expect([...outcomes.values()].filter((o) => o === "ok").length).toBeGreaterThan(20);
    expect(failures.length).toBeGreaterThan(0); // calls made after shutdown began
    for (const [text, err] of failures) {
      expect(err.code, `${text}: ${err.message}`).toBe(Code.UNAVAILABLE);
      expect(started.has(text), `${text} reached a handler but failed: ${err.message}`).toBe(false);
    }
    for (const text of started) expect(outcomes.get(text), text).toBe("ok");
    expect(drainMs).toBeLessThan(2000); // resolved when in-flight calls finished, not at the 5 s grace
  });

  it("after the grace period, calls still running are cancelled: the handler's signal fires and the caller gets UNAVAILABLE", async () => {
    const { server, started, aborted, transport, client } = await startTracked();
    const slow = client.echo({ text: "too slow", delayMs: 10_000 }).catch((e: unknown) => e);
    while (!started.has("too slow")) await sleep(5);
    const t0 = Date.now();
    await server.shutdown(200);
    expect(Date.now() - t0).toBeLessThan(1500);
    const err = (await slow) as FerryError;
    expect(err).toBeInstanceOf(FerryError);
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(aborted.has("too slow")).toBe(true);
    await transport.close();
  });
});
