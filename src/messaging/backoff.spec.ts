import { describe, expect, it } from "vitest";
import { backoffDelayMs, resolveBackoff } from "./backoff.js";
import { Code } from "../rpc/code.js";

describe("backoff", () => {
  describe("backoffDelayMs()", () => {
    it("grows exponentially from initialMs and stops at maxMs", () => {
      const b = resolveBackoff({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0 });
      expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(b, a))).toEqual([100, 200, 400, 800, 1000, 1000]);
    });

    it("spreads the delay by ±jitter", () => {
      const b = resolveBackoff({ initialMs: 1000, maxMs: 10_000, jitter: 0.2 });
      expect(backoffDelayMs(b, 1, () => 0)).toBe(800);
      expect(backoffDelayMs(b, 1, () => 1)).toBe(1200);
    });
  });

  describe("resolveBackoff()", () => {
    it("applies the defaults", () => {
      expect(resolveBackoff()).toEqual({ initialMs: 1000, maxMs: 60_000, multiplier: 2, jitter: 0.2 });
    });

    it.each([{ initialMs: -1 }, { maxMs: 10, initialMs: 20 }, { multiplier: 0.5 }, { jitter: 2 }])("rejects %o with INVALID_ARGUMENT", (o) => {
      expect(() => resolveBackoff(o)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    });
  });
});
