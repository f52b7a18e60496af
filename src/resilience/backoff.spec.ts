import { describe, expect, it } from "vitest";
import { Code } from "../rpc/code.js";
import { ExponentialBackoff } from "./backoff.js";
import { seededRandom } from "../../test/support/seeded-random.js";


describe("ExponentialBackoff", () => {
  describe("next()", () => {
    it("draws the n-th delay from [0, min(initial × multiplier^(n−1), max)) over 10,000 samples (gRFC A6)", () => {
      const random = seededRandom(42);
      const opts = { initialBackoffMs: 100, maxBackoffMs: 3_000, backoffMultiplier: 2, random };
      const sums = new Array<number>(8).fill(0);
      let minRatio = Infinity;
      let maxRatio = -Infinity;
      const samples = 10_000;
      for (let s = 0; s < samples; s++) {
        const b = new ExponentialBackoff(opts);
        for (let n = 1; n <= 8; n++) {
          const ratio = b.next() / Math.min(100 * 2 ** (n - 1), 3_000);
          minRatio = Math.min(minRatio, ratio);
          maxRatio = Math.max(maxRatio, ratio);
          sums[n - 1] += ratio;
        }
      }
      expect(minRatio).toBeGreaterThanOrEqual(0);
      expect(maxRatio).toBeLessThan(1);
      expect(maxRatio).toBeGreaterThan(0.99); // the draws do spread over the whole range
      // Full jitter is uniform: the mean of delay / bound is close to 1/2 for every n.
      for (const sum of sums) expect(Math.abs(sum / samples - 0.5)).toBeLessThan(0.02);
    });

    it("reaches the bounds at the random source's extremes", () => {
      const low = new ExponentialBackoff({ initialBackoffMs: 10, maxBackoffMs: 50, backoffMultiplier: 3, random: () => 0 });
      expect([low.next(), low.next(), low.next()]).toEqual([0, 0, 0]);
      const high = new ExponentialBackoff({ initialBackoffMs: 10, maxBackoffMs: 50, backoffMultiplier: 3, random: () => 1 - Number.EPSILON });
      const ds = [high.next(), high.next(), high.next(), high.next()];
      expect(ds.map(Math.round)).toEqual([10, 30, 50, 50]);
    });
  });

  describe("reset()", () => {
    it("starts over from initialBackoffMs", () => {
      const b = new ExponentialBackoff({ initialBackoffMs: 10, maxBackoffMs: 1000, random: () => 0.5 });
      b.next();
      b.next();
      expect(b.currentBoundMs).toBe(40);
      b.reset();
      expect(b.next()).toBe(5);
    });
  });

  describe("constructor", () => {
    it("rejects out-of-range options with INVALID_ARGUMENT", () => {
      expect(() => new ExponentialBackoff({ initialBackoffMs: 0 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
      expect(() => new ExponentialBackoff({ initialBackoffMs: 100, maxBackoffMs: 10 })).toThrow(/maxBackoffMs/);
      expect(() => new ExponentialBackoff({ backoffMultiplier: 0.5 })).toThrow(/backoffMultiplier/);
    });
  });
});
