import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { echoRequest, FakeCallHandler, flush } from "../../test/support/fake-call-handler.js";
import { rejection } from "../../test/support/rejection.js";
import type { StreamResponse } from "../rpc/call.js";
import { Code } from "../rpc/code.js";
import { Metadata } from "../rpc/metadata.js";
import { ResilienceEvents } from "./events.js";
import { TimeoutPolicy } from "./timeout.js";

describe("TimeoutPolicy", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe("execute()", () => {
    it("cancels the work through its signal with DEADLINE_EXCEEDED and rejects at the timeout", async () => {
      const events = new ResilienceEvents();
      const fired = vi.fn();
      events.on("timeout", fired);
      const fake = new FakeCallHandler();
      const p = rejection(new TimeoutPolicy({ timeoutMs: 100, events }).execute((ctx) => fake.handler(echoRequest({ signal: ctx.signal }))));
      await vi.advanceTimersByTimeAsync(99);
      expect(fake.last.cancelled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(fake.last.cancelled).toBe(true);
      const err = await p;
      expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
      expect(fake.last.request.signal!.reason).toBe(err);
      expect(fired).toHaveBeenCalledWith(expect.objectContaining({ timeoutMs: 100 }));
    });

    it("rejects at the timeout even when the work ignores its signal", async () => {
      const p = rejection(new TimeoutPolicy({ timeoutMs: 10 }).execute(() => new Promise(() => {})));
      await vi.advanceTimersByTimeAsync(10);
      expect((await p).code).toBe(Code.DEADLINE_EXCEEDED);
    });

    it("hands the work the earlier of the caller's deadline and its own", async () => {
      const policy = new TimeoutPolicy({ timeoutMs: 1000 });
      const seen: (number | undefined)[] = [];
      await policy.execute(async (ctx) => seen.push(ctx.deadline), { deadline: Date.now() + 50 });
      await policy.execute(async (ctx) => seen.push(ctx.deadline), { deadline: Date.now() + 5000 });
      expect(seen).toEqual([Date.now() + 50, Date.now() + 1000]);
    });

    it("leaves no timer and no listener on the caller's signal after the work settles", async () => {
      const caller = new AbortController();
      const policy = new TimeoutPolicy({ timeoutMs: 1000 });
      await policy.execute(async () => 1, { signal: caller.signal });
      await policy.execute(async () => Promise.reject(new Error("x")), { signal: caller.signal }).catch(() => undefined);
      expect(vi.getTimerCount()).toBe(0);
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    });

    it("passes the caller's cancellation on to the work", async () => {
      const caller = new AbortController();
      const fake = new FakeCallHandler();
      const p = rejection(new TimeoutPolicy({ timeoutMs: 1000 }).execute((ctx) => fake.handler(echoRequest({ signal: ctx.signal })), { signal: caller.signal }));
      await flush();
      caller.abort();
      expect((await p).code).toBe(Code.CANCELLED);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe("interceptor()", () => {
    it("covers a streaming response until it ends", async () => {
      let signal: AbortSignal | undefined;
      const handler = new TimeoutPolicy({ timeoutMs: 100 }).interceptor()(async (req) => {
        signal = req.signal;
        const messages = (async function* () {
          await new Promise<void>((_, reject) => req.signal!.addEventListener("abort", () => reject(req.signal!.reason)));
          yield* [];
        })();
        return { stream: true, messages, headers: new Metadata(), trailers: new Metadata() } satisfies StreamResponse;
      });
      const res = (await handler(echoRequest({ method: "serverStream" }))) as StreamResponse;
      const reading = rejection((async () => {
        for await (const _ of res.messages) {
          // nothing arrives
        }
      })());
      await vi.advanceTimersByTimeAsync(100);
      expect(signal!.aborted).toBe(true);
      expect((await reading).code).toBe(Code.DEADLINE_EXCEEDED);
    });
  });

  it("rejects a bad timeoutMs with INVALID_ARGUMENT", () => {
    expect(() => new TimeoutPolicy({ timeoutMs: -1 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
  });
});
