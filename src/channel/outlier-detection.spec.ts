import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Code } from "../rpc/code.js";
import { OutlierDetector, type EjectionInfo, type OutlierDetectionOptions } from "./outlier-detection.js";

function detector(options: OutlierDetectionOptions, urls = ["a", "b", "c"]) {
  const ejected: [string, EjectionInfo][] = [];
  const restored: string[] = [];
  const d = new OutlierDetector(options, { onEjected: (url, info) => ejected.push([url, info]), onRestored: (url) => restored.push(url) });
  d.setEndpoints(urls);
  return { d, ejected, restored };
}

function fail(d: OutlierDetector, url: string, times: number, code = Code.UNAVAILABLE): void {
  for (let i = 0; i < times; i++) d.record(url, code);
}

describe("OutlierDetector", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe("record()", () => {
    it("ejects an endpoint at its consecutiveFailures-th failure in a row, not before", () => {
      const { d, ejected } = detector({ consecutiveFailures: 3, maxEjectionPercent: 100 });
      fail(d, "a", 2);
      expect(d.isEjected("a")).toBe(false);
      fail(d, "a", 1);
      expect(d.isEjected("a")).toBe(true);
      expect(ejected).toEqual([["a", { reason: "consecutive-failures", ejectionTimeMs: 30_000, ejections: 1, failures: 3, calls: 3 }]]);
      d.close();
    });

    it("starts counting again after a success", () => {
      const { d } = detector({ consecutiveFailures: 3 });
      fail(d, "a", 2);
      d.record("a", Code.OK);
      fail(d, "a", 2);
      expect(d.isEjected("a")).toBe(false);
      d.close();
    });

    it("ignores codes outside failureCodes (application errors)", () => {
      const { d } = detector({ consecutiveFailures: 2 });
      fail(d, "a", 10, Code.NOT_FOUND);
      fail(d, "a", 10, Code.CANCELLED);
      expect(d.isEjected("a")).toBe(false);
      d.close();
    });

    it("never ejects more than maxEjectionPercent of the endpoints (checked before each ejection)", () => {
      const { d } = detector({ consecutiveFailures: 1, maxEjectionPercent: 50 }, ["a", "b", "c", "d"]);
      fail(d, "a", 1);
      fail(d, "b", 1);
      fail(d, "c", 1);
      expect([d.isEjected("a"), d.isEjected("b"), d.isEjected("c")]).toEqual([true, true, false]);
      expect(d.ejectedCount).toBe(2);
      d.close();
    });

    it("can always eject one endpoint with the default 10%", () => {
      const { d } = detector({ consecutiveFailures: 1 });
      fail(d, "a", 1);
      fail(d, "b", 1);
      expect([d.isEjected("a"), d.isEjected("b")]).toEqual([true, false]);
      d.close();
    });
  });

  describe("tick()", () => {
    it("restores an endpoint at the first interval after its ejection time", () => {
      const { d, restored } = detector({ consecutiveFailures: 1, intervalMs: 1_000, baseEjectionTimeMs: 2_500 });
      fail(d, "a", 1);
      vi.advanceTimersByTime(2_000);
      expect(d.isEjected("a")).toBe(true);
      vi.advanceTimersByTime(1_000);
      expect(d.isEjected("a")).toBe(false);
      expect(restored).toEqual(["a"]);
      d.close();
    });

    it("makes back-to-back ejections longer (base × n) up to maxEjectionTimeMs", () => {
      const { d, ejected } = detector({ consecutiveFailures: 1, intervalMs: 1_000, baseEjectionTimeMs: 1_000, maxEjectionTimeMs: 2_500 });
      for (let i = 0; i < 3; i++) {
        fail(d, "a", 1);
        // Fail again at the tick that restores it: no interval passes un-ejected.
        vi.advanceTimersByTime(Math.ceil(ejected[ejected.length - 1][1].ejectionTimeMs / 1_000) * 1_000);
        expect(d.isEjected("a")).toBe(false);
      }
      expect(ejected.map(([, e]) => e.ejectionTimeMs)).toEqual([1_000, 2_000, 2_500]);
      expect(ejected.map(([, e]) => e.ejections)).toEqual([1, 2, 3]);
      d.close();
    });

    it("lowers the multiplier by one per interval without ejection", () => {
      const { d, ejected } = detector({ consecutiveFailures: 1, intervalMs: 1_000, baseEjectionTimeMs: 1_000 });
      fail(d, "a", 1);
      vi.advanceTimersByTime(1_000); // restored; multiplier stays 1 this tick
      vi.advanceTimersByTime(1_000); // multiplier 1 → 0
      fail(d, "a", 1);
      expect(ejected.map(([, e]) => e.ejections)).toEqual([1, 1]);
      d.close();
    });

    it("ejects by failure rate when enough endpoints have enough calls", () => {
      const { d, ejected } = detector({ consecutiveFailures: 0, failureRateThreshold: 50, failureRateMinimumCalls: 10, failureRateMinimumHosts: 3, intervalMs: 1_000, maxEjectionPercent: 100 });
      for (let i = 0; i < 10; i++) {
        d.record("a", i % 2 === 0 ? Code.INTERNAL : Code.OK); // 50%
        d.record("b", i < 4 ? Code.INTERNAL : Code.OK); // 40%
        d.record("c", Code.OK);
      }
      vi.advanceTimersByTime(1_000);
      expect(ejected.map(([url, e]) => [url, e.reason])).toEqual([["a", "failure-rate"]]);
      d.close();
    });

    it("skips the failure-rate check with fewer than failureRateMinimumHosts busy endpoints", () => {
      const { d, ejected } = detector({ consecutiveFailures: 0, failureRateThreshold: 50, failureRateMinimumCalls: 10, failureRateMinimumHosts: 3, intervalMs: 1_000 });
      fail(d, "a", 10, Code.INTERNAL);
      fail(d, "b", 10, Code.INTERNAL);
      vi.advanceTimersByTime(1_000);
      expect(ejected).toEqual([]);
      d.close();
    });
  });

  describe("close()", () => {
    it("stops its interval timer", () => {
      const { d } = detector({});
      expect(vi.getTimerCount()).toBe(1);
      d.close();
      expect(vi.getTimerCount()).toBe(0);
    });

    it("runs no timer while no endpoint is tracked", () => {
      const { d } = detector({}, []);
      expect(vi.getTimerCount()).toBe(0);
      d.setEndpoints(["a"]);
      d.setEndpoints([]);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  it("rejects out-of-range options with INVALID_ARGUMENT", () => {
    const listener = { onEjected() {}, onRestored() {} };
    for (const bad of [{ consecutiveFailures: -1 }, { failureRateThreshold: 101 }, { maxEjectionPercent: -5 }, { intervalMs: 0 }, { failureCodes: [Code.OK] }]) {
      expect(() => new OutlierDetector(bad, listener)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    }
  });
});
