/**
 * The resilience interceptor through a real Ferry client and server over the
 * in-process transport (real timers, short delays).
 */
import { describe, expect, it } from "vitest";
import { Code, createClient, createInProcessTransport, createServer, FerryError, type CallContext, type Interceptor } from "../src/index.js";
import { createRateLimitServerInterceptor, Resilience, ResilienceEvents } from "../src/resilience/index.js";
import { EchoService } from "./gen/ferry/test/v1/echo_pb.js";
import { rejection } from "./support/rejection.js";

const ECHO = "ferry.test.v1.EchoService";

/** An EchoService whose `echo` runs `behave` with the 1-based call number. */
function setup(config: unknown, behave: (n: number, ctx: CallContext) => Promise<string>, serverInterceptors: Interceptor[] = []) {
  const seen: { n: number; ctx: CallContext }[] = [];
  const server = createServer({ interceptors: serverInterceptors }).service(EchoService, {
    async echo(req, ctx) {
      const n = seen.length + 1;
      seen.push({ n, ctx });
      return { text: `${req.text} #${await behave(n, ctx)}` };
    },
  });
  const events = new ResilienceEvents();
  const log: string[] = [];
  events.onAny((e) => log.push(e.type));
  const resilience = new Resilience(config, { events });
  const client = createClient(EchoService, createInProcessTransport(server), { interceptors: [resilience.interceptor()] });
  return { client, seen, log, resilience };
}

function waitAbort(ctx: CallContext, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(`after ${ms} ms`), ms);
    ctx.signal.addEventListener("abort", () => {
      clearTimeout(t);
      reject(ctx.signal.reason);
    }, { once: true });
  });
}

describe("Resilience through a Ferry client (inproc)", () => {
  it("retries UNAVAILABLE until the server answers", async () => {
    const { client, seen, log } = setup(
      { methodConfig: [{ name: [{ service: ECHO }], retryPolicy: { maxAttempts: 3, initialBackoff: "0.005s" } }] },
      async (n) => {
        if (n < 3) throw new FerryError(Code.UNAVAILABLE, "warming up");
        return String(n);
      },
    );
    expect((await client.echo({ text: "hi" })).text).toBe("hi #3");
    expect(seen.length).toBe(3);
    expect(log).toEqual(["retry.attempt", "retry.attempt"]);
  });

  it("stops retrying when the server's trailers say grpc-retry-pushback-ms: -1", async () => {
    const { client, seen } = setup(
      { methodConfig: [{ name: [{ service: ECHO }], retryPolicy: { maxAttempts: 3, initialBackoff: "0.005s" } }] },
      async () => {
        throw new FerryError(Code.UNAVAILABLE, "go away", { metadata: { "grpc-retry-pushback-ms": "-1" } });
      },
    );
    expect((await rejection(client.echo({ text: "hi" }))).code).toBe(Code.UNAVAILABLE);
    expect(seen.length).toBe(1);
  });

  it("cancels the server's handler when the timeout elapses", async () => {
    const { client, seen } = setup({ methodConfig: [{ name: [{ service: ECHO }], timeout: "0.05s" }] }, (_, ctx) => waitAbort(ctx, 5_000));
    const err = await rejection(client.echo({ text: "hi" }));
    expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(seen[0].ctx.signal.aborted).toBe(true);
  });

  it("hedges: the fast second attempt wins and the slow first one is cancelled on the server", async () => {
    const { client, seen } = setup(
      { methodConfig: [{ name: [{ service: ECHO }], hedgingPolicy: { maxAttempts: 2, hedgingDelay: "0.02s" } }] },
      async (n, ctx) => (n === 1 ? waitAbort(ctx, 5_000) : "fast"),
    );
    expect((await client.echo({ text: "hi" })).text).toBe("hi #fast");
    expect(seen.length).toBe(2);
    expect(seen[0].ctx.signal.aborted).toBe(true);
  });

  it("opens the breaker on a failing dependency and degrades to the fallback without calling it", async () => {
    const { client, seen, log, resilience } = setup(
      {
        methodConfig: [
          {
            name: [{ service: ECHO, method: "Echo" }],
            circuitBreaker: { consecutiveFailures: 2, openDurationMs: 60_000 },
            fallback: { response: { text: "payment is unavailable, try again later" } },
          },
        ],
      },
      async () => {
        throw new FerryError(Code.UNAVAILABLE, "payment down");
      },
    );
    for (let i = 0; i < 5; i++) expect((await client.echo({ text: "pay" })).text).toBe("payment is unavailable, try again later");
    expect(seen.length).toBe(2);
    expect(resilience.breakerStates()[`${ECHO}/Echo`].state).toBe("open");
    expect(log.filter((t) => t === "breaker.rejected").length).toBe(3);
  });

  it("rejects calls over the server's rate limit with RESOURCE_EXHAUSTED", async () => {
    const { client, seen } = setup({ methodConfig: [] }, async () => "ok", [createRateLimitServerInterceptor({ ratePerSecond: 0.001, burst: 2 })]);
    await client.echo({ text: "a" });
    await client.echo({ text: "b" });
    const err = await rejection(client.echo({ text: "c" }));
    expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(seen.length).toBe(2);
  });
});
