import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { rejection } from "../../test/support/rejection.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { CircuitBreaker, type CircuitBreakerOptions } from "./circuit-breaker.js";
import { isCircuitOpenError } from "./circuit-open-error.js";
import { ResilienceEvents } from "./events.js";

const ok = async () => "ok";
const fails = (code = Code.UNAVAILABLE) => async () => {
  throw new FerryError(code, "boom");
};

describe("CircuitBreaker", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function breaker(options: CircuitBreakerOptions = {}) {
    const events = new ResilienceEvents();
    const log: string[] = [];
    events.onAny((e) => log.push(e.type));
    return { b: new CircuitBreaker({ events, ...options }), log };
  }

  async function run(b: CircuitBreaker, outcomes: string): Promise<void> {
    for (const o of outcomes) await b.execute(o === "S" ? ok : fails()).catch(() => undefined);
  }

  describe("execute()", () => {
    it("opens at exactly the failure rate once minimumCalls calls are in the window", async () => {
      const { b } = breaker({ minimumCalls: 4, failureRateThreshold: 0.5 });
      await run(b, "FFF"); // 3 calls: below minimumCalls
      expect(b.state.state).toBe("closed");
      await run(b, "S"); // the 4th call: 3/4 ≥ 0.5 — judged on any outcome, as resilience4j
      expect(b.state.state).toBe("open");
      const { b: b2 } = breaker({ minimumCalls: 4, failureRateThreshold: 0.5 });
      await run(b2, "SSF"); // 1/3
      expect(b2.state.state).toBe("closed");
      await run(b2, "F"); // 2/4 = 0.5 ≥ 0.5
      expect(b2.state.state).toBe("open");
    });

    it("stays closed just under the threshold", async () => {
      const { b } = breaker({ minimumCalls: 5, failureRateThreshold: 0.5 });
      await run(b, "SSSFF"); // 2/5 = 0.4
      expect(b.state.state).toBe("closed");
      await run(b, "F"); // 3/6 = 0.5
      expect(b.state.state).toBe("open");
    });

    it("opens on the N-th consecutive failure, whatever the rate; a success resets the count", async () => {
      const { b } = breaker({ minimumCalls: 100, consecutiveFailures: 3 });
      await run(b, "FFSFF");
      expect(b.state).toMatchObject({ state: "closed", consecutiveFailures: 2 });
      await run(b, "F");
      expect(b.state.state).toBe("open");
    });

    it("forgets outcomes older than the window", async () => {
      const { b } = breaker({ minimumCalls: 4, failureRateThreshold: 0.5, windowMs: 1000, windowBuckets: 10 });
      await run(b, "FFF");
      vi.advanceTimersByTime(1000);
      await run(b, "SSSF"); // the three old failures are gone: 1/4
      expect(b.state.state).toBe("closed");
    });

    it("rejects at once while open with UNAVAILABLE, retryable, without calling the work", async () => {
      const { b, log } = breaker({ consecutiveFailures: 1, openDurationMs: 5000, name: "payment" });
      await run(b, "F");
      const fn = vi.fn(ok);
      vi.advanceTimersByTime(1000);
      const err = await rejection(b.execute(fn));
      expect(fn).not.toHaveBeenCalled();
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.retryable).toBe(true);
      expect(isCircuitOpenError(err)).toBe(true);
      expect(err.rawMessage).toBe('circuit breaker "payment" is open; calls are rejected for another 4000 ms');
      expect(err.metadata.get("ferry-retry-after-ms")).toBe("4000");
      expect(log).toEqual(["breaker.opened", "breaker.rejected"]);
    });

    it("goes half-open after exactly openDurationMs and closes after halfOpenMaxCalls successful probes", async () => {
      const { b, log } = breaker({ consecutiveFailures: 1, openDurationMs: 1000, halfOpenMaxCalls: 2 });
      await run(b, "F");
      vi.advanceTimersByTime(999);
      expect(b.state.state).toBe("open");
      vi.advanceTimersByTime(1);
      expect(b.state.state).toBe("half-open");
      let release1!: () => void;
      let release2!: () => void;
      const p1 = b.execute(() => new Promise<void>((r) => (release1 = r)));
      const p2 = b.execute(() => new Promise<void>((r) => (release2 = r)));
      const third = await rejection(b.execute(ok)); // both probe slots taken
      expect(isCircuitOpenError(third)).toBe(true);
      release1();
      await p1;
      expect(b.state).toMatchObject({ state: "half-open", probeSuccesses: 1 });
      release2();
      await p2;
      expect(b.state.state).toBe("closed");
      expect(log).toEqual(["breaker.opened", "breaker.half-open", "breaker.rejected", "breaker.closed"]);
    });

    it("opens again on the first failed probe", async () => {
      const { b, log } = breaker({ consecutiveFailures: 1, openDurationMs: 1000, halfOpenMaxCalls: 3 });
      await run(b, "F");
      vi.advanceTimersByTime(1000);
      await run(b, "SF");
      expect(b.state).toMatchObject({ state: "open", halfOpenAtMs: Date.now() + 1000 });
      expect(log).toEqual(["breaker.opened", "breaker.half-open", "breaker.opened"]);
    });

    it("counts answers about the request as successes and ignores CANCELLED", async () => {
      const { b } = breaker({ consecutiveFailures: 2 });
      await b.execute(fails()).catch(() => undefined);
      await b.execute(fails(Code.CANCELLED)).catch(() => undefined);
      expect(b.state).toMatchObject({ consecutiveFailures: 1 });
      await b.execute(fails(Code.NOT_FOUND)).catch(() => undefined);
      expect(b.state).toMatchObject({ consecutiveFailures: 0 });
    });

    it("ignores the outcome of a call admitted before the state changed", async () => {
      const { b } = breaker({ consecutiveFailures: 1, openDurationMs: 1000 });
      let failSlow!: () => void;
      const slow = b.execute(() => new Promise<void>((_, reject) => (failSlow = () => reject(new FerryError(Code.UNAVAILABLE, "late"))))).catch(() => undefined);
      await run(b, "F"); // opens
      vi.advanceTimersByTime(1000);
      expect(b.state.state).toBe("half-open");
      failSlow();
      await slow;
      expect(b.state.state).toBe("half-open");
    });
  });

  describe("state", () => {
    it("is a serialisable union that restores a breaker", async () => {
      const { b } = breaker({ consecutiveFailures: 1, openDurationMs: 1000 });
      await run(b, "F");
      const saved = JSON.parse(JSON.stringify(b));
      expect(saved).toEqual({ state: "open", openedAtMs: Date.now(), halfOpenAtMs: Date.now() + 1000 });
      const restored = new CircuitBreaker({ initialState: saved, openDurationMs: 1000 });
      expect(isCircuitOpenError(await rejection(restored.execute(ok)))).toBe(true);
    });
  });

  describe("constructor", () => {
    it("rejects bad options with INVALID_ARGUMENT naming the option", () => {
      expect(() => new CircuitBreaker({ failureRateThreshold: 0 })).toThrow(/failureRateThreshold/);
      expect(() => new CircuitBreaker({ minimumCalls: 0 })).toThrow(/minimumCalls/);
      expect(() => new CircuitBreaker({ halfOpenMaxCalls: 1.5 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    });
  });
});
