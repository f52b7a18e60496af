import { describe, expect, it } from "vitest";
import { AsyncQueue } from "./async-queue.js";

describe("AsyncQueue", () => {
  it("delivers pushed values in order, then ends", async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    setTimeout(() => {
      q.push(2);
      q.end();
    }, 1);
    const got: number[] = [];
    for await (const v of q) got.push(v);
    expect(got).toEqual([1, 2]);
  });
  it("fails the consumer after the queued values", async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.fail(new Error("boom"));
    const got: number[] = [];
    await expect((async () => { for await (const v of q) got.push(v); })()).rejects.toThrow("boom");
    expect(got).toEqual([1]);
  });
  it("calls onPull for each value taken and onCancel once when the consumer stops early", async () => {
    let pulls = 0;
    let cancels = 0;
    const q = new AsyncQueue<number>({ onPull: () => pulls++, onCancel: () => cancels++ });
    q.push(1);
    q.push(2);
    for await (const _ of q) break;
    expect(pulls).toBe(1);
    expect(cancels).toBe(1);
    q.push(3);
    expect(q.size).toBe(0);
  });
});
