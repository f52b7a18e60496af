import { describe, expect, it } from "vitest";
import { Code } from "../rpc/code.js";
import { resolveSubscribeOptions } from "./subscribe-options.js";

describe("resolveSubscribeOptions()", () => {
  it("applies the documented defaults", () => {
    expect(resolveSubscribeOptions({ group: "g" })).toMatchObject({
      group: "g",
      maxDeliveries: 5,
      concurrency: 1,
      prefetch: 10,
      startAt: { kind: "new" },
      ackTimeoutMs: 30_000,
      filter: undefined,
    });
  });

  it("turns startAt forms into positions", () => {
    expect(resolveSubscribeOptions({ group: "g", startAt: { sequence: 42n } }).startAt).toEqual({ kind: "sequence", sequence: "42" });
    expect(resolveSubscribeOptions({ group: "g", startAt: { time: new Date(5) } }).startAt).toEqual({ kind: "time", timeMs: 5 });
  });

  it.each([
    [{ group: "" }, /group/],
    [{ group: "a.b" }, /group/],
    [{ group: "g", concurrency: 0 }, /concurrency/],
    [{ group: "g", concurrency: 8, prefetch: 4 }, /prefetch/],
    [{ group: "g", maxDeliveries: 1.5 }, /maxDeliveries/],
    [{ group: "g", ackTimeoutMs: 10 }, /ackTimeoutMs/],
    [{ group: "g", startAt: "later" }, /startAt/],
    [{ group: "g", startAt: { time: Number.NaN } }, /startAt.time/],
  ])("rejects %o with INVALID_ARGUMENT", (options, message) => {
    expect(() => resolveSubscribeOptions(options as never)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT, rawMessage: expect.stringMatching(message) }));
  });
});
