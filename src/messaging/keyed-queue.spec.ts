import { describe, expect, it } from "vitest";
import { KeyedQueue } from "./keyed-queue.js";

describe("KeyedQueue", () => {
  describe("take()", () => {
    it("returns one item per key at a time, in push order, and unkeyed items freely", () => {
      const q = new KeyedQueue<string>();
      q.push("a", "a1");
      q.push("a", "a2");
      q.push("b", "b1");
      q.push(undefined, "x");
      expect(q.take()?.item).toBe("a1");
      expect(q.take()?.item).toBe("b1"); // a2 waits for a1
      expect(q.take()?.item).toBe("x");
      expect(q.take()).toBeUndefined();
      q.release("a");
      expect(q.take()?.item).toBe("a2");
    });
  });

  describe("drain()", () => {
    it("empties the queue", () => {
      const q = new KeyedQueue<number>();
      q.push("k", 1);
      q.push(undefined, 2);
      expect(q.drain()).toEqual([1, 2]);
      expect(q.size).toBe(0);
    });
  });
});
