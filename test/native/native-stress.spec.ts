import { describe, expect, it } from "vitest";
import { Code, createClient, createServer, FerryError, type ServiceImpl } from "../../src/index.js";
import { createNativeServerTransport, createNativeTransport } from "../../src/transport/native/index.js";
import { EchoService } from "../gen/ferry/test/v1/echo_pb.js";
import { seededRandom } from "../support/seeded-random.js";


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("native transport: mixed load with cancellations on tiny windows", () => {
  it("settles every call (no hang), with only the expected codes, and leaves no call running on the server", async () => {
    let running = 0;
    const impl: ServiceImpl<typeof EchoService> = {
      async echo(req) {
        running++;
        try {
          await sleep(req.delayMs);
          return { text: req.text, payload: req.payload };
        } finally {
          running--;
        }
      },
      async *serverStream(req) {
        running++;
        try {
          for (let i = 0; i < req.count; i++) yield { index: i, payload: req.payload };
        } finally {
          running--;
        }
      },
      async clientStream(reqs) {
        running++;
        try {
          let n = 0;
          for await (const _ of reqs) n++;
          return { index: n };
        } finally {
          running--;
        }
      },
      async *bidi(reqs) {
        running++;
        try {
          for await (const r of reqs) yield { text: r.text, payload: r.payload };
        } finally {
          running--;
        }
      },
    };
    const server = createServer({ logger: { error() {}, warn() {}, info() {}, debug() {} } }).service(EchoService, impl);
    const { url } = await server.listen(createNativeServerTransport({ port: 0, initialWindowBytes: 2048, maxConcurrentStreams: 32 }));
    const transport = createNativeTransport({ port: Number(new URL(url).port), initialWindowBytes: 2048, connections: 2 });
    const client = createClient(EchoService, transport);
    const rand = seededRandom(42);
    const payload = new Uint8Array(300);

    const one = async (i: number): Promise<Code | "ok"> => {
      const ac = new AbortController();
      const cancelAfter = rand() < 0.3 ? Math.floor(rand() * 20) : undefined;
      if (cancelAfter !== undefined) setTimeout(() => ac.abort(), cancelAfter);
      const opts = { signal: ac.signal, timeoutMs: rand() < 0.2 ? 10 : 5000 };
      try {
        switch (i % 4) {
          case 0:
            await client.echo({ text: String(i), payload, delayMs: Math.floor(rand() * 15) }, opts);
            break;
          case 1: {
            let n = 0;
            for await (const _ of client.serverStream({ count: 200, payload }, opts)) if (++n === 50 && rand() < 0.3) break;
            break;
          }
          case 2: {
            async function* reqs() {
              for (let k = 0; k < 100; k++) yield { payload };
            }
            await client.clientStream(reqs(), opts);
            break;
          }
          default: {
            async function* reqs() {
              for (let k = 0; k < 50; k++) yield { text: String(k), payload };
            }
            for await (const _ of client.bidi(reqs(), opts)) {
              // read everything
            }
          }
        }
        return "ok";
      } catch (err) {
        return (err as FerryError).code;
      }
    };

    const outcomes = await Promise.all(Array.from({ length: 240 }, (_, i) => one(i)));
    const codes = new Set(outcomes);
    for (const c of codes) expect(["ok", Code.CANCELLED, Code.DEADLINE_EXCEEDED]).toContain(c);
    expect(outcomes.filter((o) => o === "ok").length).toBeGreaterThan(60);
    const until = Date.now() + 3000;
    while (running > 0 && Date.now() < until) await sleep(10);
    expect(running).toBe(0);
    expect((await client.echo({ text: "after" })).text).toBe("after");
    await transport.close();
    await server.shutdown(500);
  });
});
