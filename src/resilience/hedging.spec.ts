import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { echoRequest, echoResponse, FakeCallHandler, flush } from "../../test/support/fake-call-handler.js";
import { rejection } from "../../test/support/rejection.js";
import type { StreamResponse, UnaryResponse } from "../rpc/call.js";
import { Metadata } from "../rpc/metadata.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { ResilienceEvents } from "./events.js";
import { HedgingPolicy } from "./hedging.js";
import { RetryThrottle } from "./retry-throttle.js";

const unavailable = (metadata?: Record<string, string>) => new FerryError(Code.UNAVAILABLE, "down", { metadata });

describe("HedgingPolicy", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function start(policy: HedgingPolicy, fake: FakeCallHandler, signal?: AbortSignal) {
    return policy.execute((ctx) => fake.handler(echoRequest({ signal: ctx.signal })), { signal });
  }

  describe("execute()", () => {
    it("sends the attempts at the configured delays, and no more than maxAttempts", async () => {
      const fake = new FakeCallHandler();
      const p = start(new HedgingPolicy({ maxAttempts: 3, hedgingDelayMs: 100 }), fake);
      await flush();
      expect(fake.calls.length).toBe(1);
      await vi.advanceTimersByTimeAsync(99);
      expect(fake.calls.length).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(fake.calls.length).toBe(2);
      await vi.advanceTimersByTimeAsync(100);
      expect(fake.calls.length).toBe(3);
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(1000);
      expect(fake.calls.length).toBe(3);
      fake.calls[0].resolve();
      await p;
    });

    it("returns the first success and cancels the losers through their signals", async () => {
      const fake = new FakeCallHandler();
      const caller = new AbortController();
      const p = start(new HedgingPolicy({ maxAttempts: 3, hedgingDelayMs: 10 }), fake, caller.signal);
      await vi.advanceTimersByTimeAsync(20);
      expect(fake.calls.length).toBe(3);
      fake.calls[1].resolve(echoResponse("second"));
      const res = (await p) as UnaryResponse;
      expect((res.message as unknown as { text: string }).text).toBe("second");
      expect(fake.calls.map((c) => c.cancelled)).toEqual([true, false, true]);
      const reason = fake.calls[0].request.signal!.reason as FerryError;
      expect(reason.code).toBe(Code.CANCELLED);
      expect(vi.getTimerCount()).toBe(0);
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    });

    it("with the default delay of 0 sends every attempt at once", async () => {
      const fake = new FakeCallHandler();
      const p = start(new HedgingPolicy({ maxAttempts: 3 }), fake);
      await vi.advanceTimersByTimeAsync(0);
      expect(fake.calls.length).toBe(3);
      fake.calls[2].resolve();
      await p;
    });

    it("sends the next attempt at once after a non-fatal failure", async () => {
      const fake = new FakeCallHandler();
      const p = start(new HedgingPolicy({ maxAttempts: 3, hedgingDelayMs: 1000, nonFatalStatusCodes: [Code.UNAVAILABLE] }), fake);
      await flush();
      fake.calls[0].reject(unavailable());
      await flush();
      expect(fake.calls.length).toBe(2);
      await vi.advanceTimersByTimeAsync(999);
      expect(fake.calls.length).toBe(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(fake.calls.length).toBe(3);
      fake.calls[2].resolve();
      await p;
    });

    it("fails at once on a fatal code and cancels the other attempts", async () => {
      const fake = new FakeCallHandler();
      const p = rejection(start(new HedgingPolicy({ maxAttempts: 3, hedgingDelayMs: 10, nonFatalStatusCodes: [Code.UNAVAILABLE] }), fake));
      await vi.advanceTimersByTimeAsync(10);
      fake.calls[1].reject(new FerryError(Code.INVALID_ARGUMENT, "bad"));
      expect((await p).code).toBe(Code.INVALID_ARGUMENT);
      expect(fake.calls[0].cancelled).toBe(true);
      await vi.advanceTimersByTimeAsync(100);
      expect(fake.calls.length).toBe(2);
    });

    it("rejects with the last failure when every attempt failed non-fatally", async () => {
      const fake = new FakeCallHandler((call) => call.reject(new FerryError(Code.UNAVAILABLE, `fail ${call.index}`)));
      const p = rejection(start(new HedgingPolicy({ maxAttempts: 3, hedgingDelayMs: 10, nonFatalStatusCodes: [Code.UNAVAILABLE] }), fake));
      await vi.runAllTimersAsync();
      expect((await p).rawMessage).toBe("fail 3");
      expect(fake.calls.length).toBe(3);
    });

    it("delays the next attempt by the server's pushback, and stops on a negative one", async () => {
      const fake = new FakeCallHandler();
      const policy = new HedgingPolicy({ maxAttempts: 3, hedgingDelayMs: 10, nonFatalStatusCodes: [Code.UNAVAILABLE] });
      const p = rejection(start(policy, fake));
      await flush();
      fake.calls[0].reject(unavailable({ "grpc-retry-pushback-ms": "500" }));
      await vi.advanceTimersByTimeAsync(499);
      expect(fake.calls.length).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(fake.calls.length).toBe(2);
      fake.calls[1].reject(unavailable({ "grpc-retry-pushback-ms": "-1" }));
      expect((await p).code).toBe(Code.UNAVAILABLE);
      await vi.advanceTimersByTimeAsync(1000);
      expect(fake.calls.length).toBe(2);
    });

    it("sends no hedged attempt while the retry throttle is at or below half", async () => {
      const throttle = new RetryThrottle({ maxTokens: 2, tokenRatio: 1 });
      throttle.recordFailure(); // 1 token: not > 1
      const events = new ResilienceEvents();
      const throttled = vi.fn();
      events.on("retry.throttled", throttled);
      const fake = new FakeCallHandler();
      const p = start(new HedgingPolicy({ maxAttempts: 3, hedgingDelayMs: 10, throttle, events }), fake);
      await vi.advanceTimersByTimeAsync(100);
      expect(fake.calls.length).toBe(1);
      expect(throttled).toHaveBeenCalledTimes(1);
      fake.calls[0].resolve();
      await p;
      expect(throttle.tokens).toBe(2);
    });

    it("rejects with the caller's reason when its signal fires, cancelling every attempt", async () => {
      const fake = new FakeCallHandler();
      const caller = new AbortController();
      const p = rejection(start(new HedgingPolicy({ maxAttempts: 2, hedgingDelayMs: 10 }), fake, caller.signal));
      await vi.advanceTimersByTimeAsync(10);
      caller.abort(new FerryError(Code.DEADLINE_EXCEEDED, "late"));
      expect((await p).code).toBe(Code.DEADLINE_EXCEEDED);
      expect(fake.calls.every((c) => c.cancelled)).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    });

    it("emits hedge.attempt for every attempt after the first", async () => {
      const events = new ResilienceEvents();
      const attempts: number[] = [];
      events.on("hedge.attempt", (e) => attempts.push(e.attempt));
      const fake = new FakeCallHandler();
      const p = start(new HedgingPolicy({ maxAttempts: 3, hedgingDelayMs: 5, events }), fake);
      await vi.advanceTimersByTimeAsync(10);
      fake.calls[0].resolve();
      await p;
      expect(attempts).toEqual([2, 3]);
    });
  });

  describe("interceptor()", () => {
    it("lets the first streaming response whose headers arrive win, and keeps its signal linked until the stream ends", async () => {
      const fake = new FakeCallHandler();
      const caller = new AbortController();
      const handler = new HedgingPolicy({ maxAttempts: 2, hedgingDelayMs: 10 }).interceptor()(fake.handler);
      const p = handler(echoRequest({ method: "serverStream", signal: caller.signal }));
      await vi.advanceTimersByTimeAsync(10);
      const messages = (async function* () {
        yield* [];
      })();
      fake.calls[1].resolve({ stream: true, messages, headers: new Metadata(), trailers: new Metadata() });
      const res = (await p) as StreamResponse;
      expect(fake.calls[0].cancelled).toBe(true);
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(1); // the winner's link
      for await (const _ of res.messages) {
        // drain
      }
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    });

    it("passes calls with a request stream through once", async () => {
      const fake = new FakeCallHandler((call) => call.resolve());
      await new HedgingPolicy({ maxAttempts: 3 }).interceptor()(fake.handler)(echoRequest({ method: "bidi" }));
      expect(fake.calls.length).toBe(1);
    });
  });

  describe("constructor", () => {
    it("rejects bad options with INVALID_ARGUMENT", () => {
      expect(() => new HedgingPolicy({ maxAttempts: 1.5 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
      expect(() => new HedgingPolicy({ hedgingDelayMs: -1 })).toThrow(/hedgingDelayMs/);
    });
  });
});
