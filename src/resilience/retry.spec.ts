import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { echoRequest, FakeCallHandler, flush } from "../../test/support/fake-call-handler.js";
import { rejection } from "../../test/support/rejection.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { markHeadersReceived } from "./attempt-outcome.js";
import { circuitOpenError } from "./circuit-open-error.js";
import { ResilienceEvents, type ResilienceEvent } from "./events.js";
import { RetryPolicy } from "./retry.js";
import { RetryThrottle } from "./retry-throttle.js";

const unavailable = (metadata?: Record<string, string>) => new FerryError(Code.UNAVAILABLE, "down", { metadata });

describe("RetryPolicy", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe("execute()", () => {
    it("caps the attempts at maxAttempts and rejects with the last error", async () => {
      const policy = new RetryPolicy({ maxAttempts: 4, random: () => 0.5 });
      let calls = 0;
      const p = rejection(policy.execute(async () => {
        calls++;
        throw new FerryError(Code.UNAVAILABLE, `failure ${calls}`);
      }));
      await vi.runAllTimersAsync();
      const err = await p;
      expect(calls).toBe(4);
      expect(err.rawMessage).toBe("failure 4");
      expect(vi.getTimerCount()).toBe(0);
    });

    it("waits random(0, min(initial × multiplier^(n−1), max)) before attempt n+1", async () => {
      const policy = new RetryPolicy({ maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 300, backoffMultiplier: 2, random: () => 0.5 });
      const fake = new FakeCallHandler((call) => call.reject(unavailable()));
      const p = rejection(policy.execute(() => fake.handler(echoRequest())));
      // Expected delays: 50, 100, 150 (capped bound 300), 150.
      for (const [delayMs, expected] of [[49, 1], [1, 2], [99, 2], [1, 3], [149, 3], [1, 4], [150, 5]] as const) {
        await vi.advanceTimersByTimeAsync(delayMs);
        expect(fake.calls.length).toBe(expected);
      }
      await p;
    });

    it("does not retry a code that is neither configured nor marked retryable", async () => {
      const policy = new RetryPolicy({ maxAttempts: 3 });
      const fn = vi.fn(async () => {
        throw new FerryError(Code.NOT_FOUND, "no such order");
      });
      expect((await rejection(policy.execute(fn))).code).toBe(Code.NOT_FOUND);
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it("retries a code in retryableStatusCodes, and an error whose retryable flag is set", async () => {
      const policy = new RetryPolicy({ maxAttempts: 2, retryableStatusCodes: [Code.ABORTED], random: () => 0 });
      for (const error of [new FerryError(Code.ABORTED, "conflict"), new FerryError(Code.INTERNAL, "flaky", { retryable: true })]) {
        const fn = vi.fn(async () => {
          throw error;
        });
        const p = rejection(policy.execute(fn));
        await vi.runAllTimersAsync();
        await p;
        expect(fn).toHaveBeenCalledTimes(2);
      }
    });

    it("never retries after the response headers arrived", async () => {
      const policy = new RetryPolicy({ maxAttempts: 3 });
      const fn = vi.fn(async () => {
        throw markHeadersReceived(unavailable());
      });
      expect((await rejection(policy.execute(fn))).code).toBe(Code.UNAVAILABLE);
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it("never retries a circuit breaker's rejection", async () => {
      const policy = new RetryPolicy({ maxAttempts: 3 });
      const fn = vi.fn(async () => {
        throw circuitOpenError("b", "open", 1000);
      });
      await rejection(policy.execute(fn));
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it("honours grpc-retry-pushback-ms: retries after exactly that delay, then backs off from initialBackoffMs again", async () => {
      const policy = new RetryPolicy({ maxAttempts: 4, initialBackoffMs: 100, backoffMultiplier: 10, maxBackoffMs: 10_000, random: () => 0.5 });
      const fake = new FakeCallHandler((call) => call.reject(call.index === 2 ? unavailable({ "grpc-retry-pushback-ms": "700" }) : unavailable()));
      const p = rejection(policy.execute(() => fake.handler(echoRequest())));
      await vi.advanceTimersByTimeAsync(50); // 0.5 × 100
      expect(fake.calls.length).toBe(2);
      await vi.advanceTimersByTimeAsync(699);
      expect(fake.calls.length).toBe(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(fake.calls.length).toBe(3);
      await vi.advanceTimersByTimeAsync(50); // reset: 0.5 × 100 again, not 0.5 × 10,000
      expect(fake.calls.length).toBe(4);
      await p;
    });

    it.each(["-1", "soon", "1.5"])("stops retrying on pushback %j", async (value) => {
      const events = new ResilienceEvents();
      const seen: string[] = [];
      events.onAny((e) => seen.push(e.type));
      const policy = new RetryPolicy({ maxAttempts: 3, events });
      const fn = vi.fn(async () => {
        throw unavailable({ "grpc-retry-pushback-ms": value });
      });
      await rejection(policy.execute(fn));
      expect(fn).toHaveBeenCalledTimes(1);
      expect(seen).toEqual(["retry.pushback-stop"]);
    });

    it("throttling stops retries after the configured failures and resumes after successes (gRFC A6)", async () => {
      // maxTokens 4: retries only while tokens > 2. Each failure costs 1, each success adds 0.5.
      const throttle = new RetryThrottle({ maxTokens: 4, tokenRatio: 0.5 });
      const events = new ResilienceEvents();
      const throttled = vi.fn();
      events.on("retry.throttled", throttled);
      const policy = new RetryPolicy({ maxAttempts: 5, throttle, events, random: () => 0 });
      let failing = true;
      const fn = vi.fn(async () => {
        if (failing) throw unavailable();
        return "ok";
      });
      const run = async (): Promise<number> => {
        fn.mockClear();
        const p = policy.execute(fn).catch(() => undefined);
        await vi.runAllTimersAsync();
        await p;
        return fn.mock.calls.length;
      };
      expect(await run()).toBe(2); // 4 → 3 (retry), 3 → 2 (throttled)
      expect(throttle.tokens).toBe(2);
      expect(await run()).toBe(1); // the first attempt is never throttled; 2 → 1
      expect(throttled).toHaveBeenCalledTimes(2);
      failing = false;
      for (let i = 0; i < 5; i++) await run(); // 1 → 3.5
      expect(throttle.tokens).toBe(3.5);
      failing = true;
      expect(await run()).toBe(2); // 3.5 → 2.5: a retry is sent again; 2.5 → 1.5: throttled
    });

    it("runs each attempt under the caller's signal, and stops when it fires", async () => {
      const policy = new RetryPolicy({ maxAttempts: 3, random: () => 0 });
      const caller = new AbortController();
      const fake = new FakeCallHandler((call) => {
        if (call.index === 1) call.reject(unavailable());
      });
      const p = rejection(policy.execute((ctx) => fake.handler(echoRequest({ signal: ctx.signal })), { signal: caller.signal }));
      await vi.advanceTimersByTimeAsync(0);
      expect(fake.calls.length).toBe(2);
      expect(fake.calls[1].request.signal).toBe(caller.signal);
      caller.abort(new FerryError(Code.CANCELLED, "user gave up"));
      expect(fake.calls[1].cancelled).toBe(true);
      expect((await p).rawMessage).toBe("user gave up");
      expect(fake.calls.length).toBe(2);
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    });

    it("stops waiting when the caller's signal fires during a backoff, leaving no timer", async () => {
      const policy = new RetryPolicy({ maxAttempts: 3, initialBackoffMs: 1000, random: () => 0.9 });
      const caller = new AbortController();
      const p = rejection(policy.execute(async () => { throw unavailable(); }, { signal: caller.signal }));
      await flush();
      expect(vi.getTimerCount()).toBe(1);
      caller.abort();
      expect((await p).code).toBe(Code.CANCELLED);
      expect(vi.getTimerCount()).toBe(0);
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    });

    it("emits retry.attempt with the attempt number, delay and error", async () => {
      const events = new ResilienceEvents();
      const seen: ResilienceEvent[] = [];
      events.onAny((e) => seen.push(e));
      const policy = new RetryPolicy({ maxAttempts: 2, initialBackoffMs: 10, random: () => 0.5, events, name: "pay" });
      const p = rejection(policy.execute(async () => { throw unavailable(); }, { method: "/x.S/M" }));
      await vi.runAllTimersAsync();
      await p;
      expect(seen).toEqual([expect.objectContaining({ type: "retry.attempt", policy: "pay", method: "/x.S/M", attempt: 2, delayMs: 5, pushback: false })]);
    });
  });

  describe("interceptor()", () => {
    it("retries a unary call through next() with a fresh request per attempt", async () => {
      const fake = new FakeCallHandler((call) => (call.index < 3 ? call.reject(unavailable()) : call.resolve()));
      const handler = new RetryPolicy({ maxAttempts: 3, random: () => 0 }).interceptor()(fake.handler);
      const p = handler(echoRequest());
      await vi.runAllTimersAsync();
      expect((await p).stream).toBe(false);
      expect(fake.calls.length).toBe(3);
    });

    it("passes calls with a request stream through once (they cannot be replayed)", async () => {
      const fake = new FakeCallHandler((call) => call.reject(unavailable()));
      const handler = new RetryPolicy({ maxAttempts: 3 }).interceptor()(fake.handler);
      const req = echoRequest({ method: "clientStream" });
      await rejection(handler(req));
      expect(fake.calls.length).toBe(1);
      expect(fake.calls[0].request).toBe(req);
    });
  });

  describe("constructor", () => {
    it("rejects maxAttempts below 1 with INVALID_ARGUMENT", () => {
      expect(() => new RetryPolicy({ maxAttempts: 0 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    });
  });
});
