import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { echoRequest, FakeCallHandler } from "../../test/support/fake-call-handler.js";
import { rejection } from "../../test/support/rejection.js";
import { Code } from "../rpc/code.js";
import { pushbackOf } from "./attempt-outcome.js";
import { ResilienceEvents } from "./events.js";
import { createRateLimitServerInterceptor, RateLimiter } from "./rate-limiter.js";

describe("RateLimiter", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe("execute()", () => {
    it("admits a burst, rejects the next call with RESOURCE_EXHAUSTED, and refills at ratePerSecond", async () => {
      const events = new ResilienceEvents();
      const limited = vi.fn();
      events.on("rate-limit.rejected", limited);
      const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, events });
      for (let i = 0; i < 3; i++) await limiter.execute(async () => i);
      const err = await rejection(limiter.execute(async () => 4));
      expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(err.retryable).toBe(false);
      expect(err.metadata.get("ferry-retry-after-ms")).toBe("500");
      expect(limited).toHaveBeenCalledWith(expect.objectContaining({ side: "client", retryAfterMs: 500 }));
      vi.advanceTimersByTime(499);
      await rejection(limiter.execute(async () => 5));
      vi.advanceTimersByTime(1);
      await limiter.execute(async () => 6);
      vi.advanceTimersByTime(60_000); // refills up to burst, never beyond
      expect(limiter.bucket.tokens).toBe(3);
    });

    it("rejects bad options with INVALID_ARGUMENT", () => {
      expect(() => new RateLimiter({ ratePerSecond: 0 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
      expect(() => new RateLimiter({ ratePerSecond: 1, burst: 0.5 })).toThrow(/burst/);
    });
  });

  describe("createRateLimitServerInterceptor()", () => {
    it("rejects calls over the rate with RESOURCE_EXHAUSTED and a grpc-retry-pushback-ms trailer, per key", async () => {
      const fake = new FakeCallHandler((call) => call.resolve());
      const handler = createRateLimitServerInterceptor({ ratePerSecond: 1, burst: 1, key: (req) => (req.stream ? "" : (req.message as unknown as { text: string }).text) })(fake.handler);
      await handler(echoRequest({ text: "alice" }));
      const err = await rejection(handler(echoRequest({ text: "alice" })));
      expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(pushbackOf(err)).toBe(1000);
      await handler(echoRequest({ text: "bob" })); // another key, another bucket
      expect(fake.calls.length).toBe(2);
    });

    it("keeps at most maxKeys buckets", async () => {
      const fake = new FakeCallHandler((call) => call.resolve());
      let n = 0;
      const handler = createRateLimitServerInterceptor({ ratePerSecond: 1, burst: 1, maxKeys: 2, key: () => String(n++ % 3) })(fake.handler);
      for (let i = 0; i < 6; i++) await handler(echoRequest()); // keys 0,1,2,0,1,2: each evicted before it comes back
      expect(fake.calls.length).toBe(6);
    });
  });
});
