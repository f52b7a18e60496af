import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { echoRequest, echoResponse, FakeCallHandler } from "../../test/support/fake-call-handler.js";
import { rejection } from "../../test/support/rejection.js";
import type { UnaryResponse } from "../rpc/call.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { ResilienceEvents } from "./events.js";
import { Resilience } from "./resilience.js";

const ECHO = "ferry.test.v1.EchoService";
const unavailable = () => new FerryError(Code.UNAVAILABLE, "down");
const textOf = (res: unknown) => ((res as UnaryResponse).message as unknown as { text: string }).text;

describe("Resilience", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(config: unknown, script?: ConstructorParameters<typeof FakeCallHandler>[0]) {
    const events = new ResilienceEvents();
    const log: string[] = [];
    events.onAny((e) => log.push(e.type));
    const resilience = new Resilience(config, { events, random: () => 0 });
    const fake = new FakeCallHandler(script);
    return { resilience, fake, log, handler: resilience.interceptor()(fake.handler) };
  }

  describe("interceptor()", () => {
    it("applies the most specific method config: method, then service, then the default", async () => {
      const { fake, handler } = setup(
        {
          methodConfig: [
            { name: [{}], retryPolicy: { maxAttempts: 2 } },
            { name: [{ service: ECHO }], retryPolicy: { maxAttempts: 3 } },
            { name: [{ service: ECHO, method: "Echo" }], retryPolicy: { maxAttempts: 4 } },
          ],
        },
        (call) => call.reject(unavailable()),
      );
      const count = async (method: "echo" | "serverStream") => {
        fake.calls.length = 0;
        const p = rejection(handler(echoRequest({ method })));
        await vi.runAllTimersAsync();
        await p;
        return fake.calls.length;
      };
      expect(await count("echo")).toBe(4);
      expect(await count("serverStream")).toBe(3);
    });

    it("passes calls of methods no entry names straight through", async () => {
      const { fake, handler } = setup({ methodConfig: [{ name: [{ service: "other.S" }], retryPolicy: { maxAttempts: 5 } }] }, (c) => c.reject(unavailable()));
      const req = echoRequest();
      await rejection(handler(req));
      expect(fake.calls.length).toBe(1);
      expect(fake.calls[0].request).toBe(req);
    });

    it("retries outside the breaker: every attempt counts, and an open breaker ends the retries", async () => {
      const { fake, handler, log } = setup(
        { methodConfig: [{ name: [{ service: ECHO }], retryPolicy: { maxAttempts: 5 }, circuitBreaker: { consecutiveFailures: 2, openDurationMs: 1000 } }] },
        (call) => call.reject(unavailable()),
      );
      const p = rejection(handler(echoRequest()));
      await vi.runAllTimersAsync();
      const err = await p;
      expect(fake.calls.length).toBe(2);
      expect(err.rawMessage).toContain("is open");
      expect(log).toEqual(["retry.attempt", "breaker.opened", "retry.attempt", "breaker.rejected"]);
    });

    it("falls back outermost: on the failure itself and while the breaker is open", async () => {
      const { fake, handler, log } = setup(
        {
          methodConfig: [
            {
              name: [{ service: ECHO }],
              circuitBreaker: { consecutiveFailures: 1, openDurationMs: 1000 },
              fallback: { response: { text: "degraded" } },
            },
          ],
        },
        (call) => call.reject(unavailable()),
      );
      expect(textOf(await handler(echoRequest()))).toBe("degraded");
      expect(textOf(await handler(echoRequest()))).toBe("degraded");
      expect(fake.calls.length).toBe(1);
      expect(log).toEqual(["breaker.opened", "fallback.used", "breaker.rejected", "fallback.used"]);
    });

    it("bounds the whole call, backoffs included, by the timeout and cancels the attempt in flight", async () => {
      const { fake, handler } = setup({
        methodConfig: [{ name: [{ service: ECHO }], timeout: "1s", retryPolicy: { maxAttempts: 5, initialBackoff: "0.6s", maxBackoff: "0.6s" } }],
      }, (call) => {
        if (call.index === 1) call.reject(unavailable());
      });
      const p = rejection(handler(echoRequest()));
      await vi.advanceTimersByTimeAsync(999); // random() = 0: the retry is sent at once
      expect(fake.calls.length).toBe(2);
      expect(fake.calls[1].cancelled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(fake.calls[1].cancelled).toBe(true);
      expect((await p).code).toBe(Code.DEADLINE_EXCEEDED);
      expect(fake.calls[1].request.deadline).toBe(Date.now());
    });

    it("spends a rate-limit token per attempt (the limiter is innermost) and does not retry its rejection", async () => {
      const { fake, handler } = setup(
        { methodConfig: [{ name: [{ service: ECHO }], retryPolicy: { maxAttempts: 5 }, rateLimit: { ratePerSecond: 1, burst: 2 } }] },
        (call) => call.reject(unavailable()),
      );
      const p = rejection(handler(echoRequest()));
      await vi.runAllTimersAsync();
      expect((await p).code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(fake.calls.length).toBe(2);
    });

    it("does not count bulkhead rejections as breaker failures", async () => {
      const { fake, handler, resilience } = setup({
        methodConfig: [{ name: [{ service: ECHO }], circuitBreaker: { consecutiveFailures: 1 }, bulkhead: { maxConcurrent: 1 } }],
      });
      const first = handler(echoRequest());
      expect((await rejection(handler(echoRequest()))).code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(resilience.breakerStates()).toEqual({ [ECHO]: { state: "closed", consecutiveFailures: 0, window: [expect.objectContaining({ calls: 1, failures: 0 })] } });
      fake.calls[0].resolve();
      await first;
    });

    it("hedges per the hedgingPolicy, sharing the retry throttle", async () => {
      const { fake, handler, resilience } = setup({
        methodConfig: [{ name: [{ service: ECHO }], hedgingPolicy: { maxAttempts: 3, hedgingDelay: "0.1s" } }],
        retryThrottling: { maxTokens: 10, tokenRatio: 1 },
      });
      const p = handler(echoRequest());
      await vi.advanceTimersByTimeAsync(200);
      expect(fake.calls.length).toBe(3);
      fake.calls[2].resolve();
      await p;
      expect(fake.calls.map((c) => c.cancelled)).toEqual([true, true, false]);
      expect(resilience.throttle!.tokens).toBe(10);
    });
  });

  describe("leaks", () => {
    it("leaves no timer and no listener behind over 100,000 calls", async () => {
      // Every third attempt fails UNAVAILABLE (at most once per call) and is retried; each call has a timeout, a breaker, a bulkhead and a rate limit.
      const retried = new WeakSet<object>();
      const response = echoResponse();
      const { handler, log } = setup(
        {
          methodConfig: [
            {
              name: [{ service: ECHO }],
              timeout: "5s",
              retryPolicy: { maxAttempts: 3, initialBackoff: "0.001s" },
              circuitBreaker: { minimumCalls: 1000, failureRateThreshold: 0.9 },
              bulkhead: { maxConcurrent: 2000, maxQueued: 0 },
              rateLimit: { ratePerSecond: 1_000_000_000, burst: 1_000_000 },
            },
          ],
        },
        (call) => {
          // The timeout policy makes one signal per call; the retries of that call share it.
          const signal = call.request.signal!;
          if (call.index % 3 !== 0 || retried.has(signal)) return call.resolve(response);
          retried.add(signal);
          call.reject(unavailable());
        },
      );
      const caller = new AbortController();
      const request = echoRequest({ signal: caller.signal });
      const batch = 100; // fake timers look timers up linearly: small batches keep this fast
      for (let b = 0; b < 1000; b++) {
        const calls = Array.from({ length: batch }, () => handler(request));
        await vi.advanceTimersByTimeAsync(1); // random() = 0: every backoff is 0 ms
        await Promise.all(calls);
      }
      expect(log.filter((t) => t === "retry.attempt").length).toBeGreaterThan(30_000);
      expect(log.filter((t) => t !== "retry.attempt")).toEqual([]);
      expect(vi.getTimerCount()).toBe(0);
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    }, 60_000);

    it("leaves no timer and no listener behind over 10,000 hedged calls with a queueing bulkhead and a fallback", async () => {
      const { handler, log } = setup(
        {
          methodConfig: [
            {
              name: [{ service: ECHO }],
              timeout: "5s",
              hedgingPolicy: { maxAttempts: 3, nonFatalStatusCodes: ["UNAVAILABLE"] },
              bulkhead: { maxConcurrent: 50, maxQueued: 1000 },
              fallback: { response: { text: "degraded" } },
            },
          ],
        },
        // Two attempts in three stay pending (until they lose or the timeout cancels them); the others fail or succeed.
        (call) => {
          if (call.index % 3 !== 0) return;
          if (call.index % 2 === 0) call.reject(unavailable());
          else call.resolve(response);
        },
      );
      const response = echoResponse();
      const caller = new AbortController();
      const request = echoRequest({ signal: caller.signal });
      for (let b = 0; b < 100; b++) {
        const calls = Array.from({ length: 100 }, () => handler(request));
        await vi.advanceTimersByTimeAsync(11_000); // past two 5 s timeouts: the queued half of the batch runs after the first
        await Promise.all(calls);
      }
      const count = (type: string) => log.filter((t) => t === type).length;
      expect(count("hedge.attempt")).toBe(20_000);
      expect(count("timeout")).toBeGreaterThan(0);
      expect(count("fallback.used")).toBe(count("timeout")); // every timed-out call was degraded
      expect(vi.getTimerCount()).toBe(0);
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    }, 60_000);
  });
});
