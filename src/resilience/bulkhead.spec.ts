import { getEventListeners } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { echoRequest, FakeCallHandler, flush } from "../../test/support/fake-call-handler.js";
import { rejection } from "../../test/support/rejection.js";
import type { StreamResponse } from "../rpc/call.js";
import { Code } from "../rpc/code.js";
import { Metadata } from "../rpc/metadata.js";
import { Bulkhead } from "./bulkhead.js";
import { ResilienceEvents } from "./events.js";

describe("Bulkhead", () => {
  describe("execute()", () => {
    it("runs maxConcurrent calls, queues maxQueued, and rejects the first call over the limit with RESOURCE_EXHAUSTED", async () => {
      const events = new ResilienceEvents();
      const rejected = vi.fn();
      events.on("bulkhead.rejected", rejected);
      const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueued: 1, events, name: "inventory" });
      const fake = new FakeCallHandler();
      const run = () => bulkhead.execute(() => fake.handler(echoRequest()));
      const running = [run(), run()];
      const queued = run();
      await flush();
      expect(fake.calls.length).toBe(2);
      expect([bulkhead.active, bulkhead.queued]).toEqual([2, 1]);
      const err = await rejection(run());
      expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(err.rawMessage).toBe('bulkhead "inventory" is full: 2 calls running, 1 queued');
      expect(rejected).toHaveBeenCalledWith(expect.objectContaining({ active: 2, queued: 1 }));
      fake.calls[0].resolve();
      await running[0];
      await flush();
      expect(fake.calls.length).toBe(3); // the queued call took the freed slot
      expect([bulkhead.active, bulkhead.queued]).toEqual([2, 0]);
      fake.calls[1].resolve();
      fake.calls[2].resolve();
      await Promise.all([running[1], queued]);
      expect(bulkhead.active).toBe(0);
    });

    it("with no queue rejects the call right after maxConcurrent", async () => {
      const bulkhead = new Bulkhead({ maxConcurrent: 1 });
      const fake = new FakeCallHandler();
      const first = bulkhead.execute(() => fake.handler(echoRequest()));
      expect((await rejection(bulkhead.execute(() => fake.handler(echoRequest())))).code).toBe(Code.RESOURCE_EXHAUSTED);
      fake.calls[0].resolve();
      await first;
      await bulkhead.execute(async () => "again");
    });

    it("frees the slot when the work fails", async () => {
      const bulkhead = new Bulkhead({ maxConcurrent: 1 });
      await bulkhead.execute(async () => Promise.reject(new Error("x"))).catch(() => undefined);
      expect(bulkhead.active).toBe(0);
    });

    it("takes a queued call whose signal fires out of the queue, leaving no listener", async () => {
      const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });
      const fake = new FakeCallHandler();
      const first = bulkhead.execute(() => fake.handler(echoRequest()));
      const caller = new AbortController();
      const waiting = rejection(bulkhead.execute(() => fake.handler(echoRequest()), { signal: caller.signal }));
      expect(bulkhead.queued).toBe(1);
      caller.abort();
      expect((await waiting).code).toBe(Code.CANCELLED);
      expect(bulkhead.queued).toBe(0);
      expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
      fake.calls[0].resolve();
      await first;
      expect(bulkhead.active).toBe(0);
    });
  });

  describe("interceptor()", () => {
    it("holds the slot of a streaming response until the stream ends", async () => {
      const bulkhead = new Bulkhead({ maxConcurrent: 1 });
      const stream: StreamResponse = {
        stream: true,
        messages: (async function* () {
          yield* [];
        })(),
        headers: new Metadata(),
        trailers: new Metadata(),
      };
      const handler = bulkhead.interceptor()(async () => stream);
      const res = (await handler(echoRequest({ method: "serverStream" }))) as StreamResponse;
      expect(bulkhead.active).toBe(1);
      for await (const _ of res.messages) {
        // drain
      }
      expect(bulkhead.active).toBe(0);
    });
  });

  describe("constructor", () => {
    it("rejects bad limits with INVALID_ARGUMENT", () => {
      expect(() => new Bulkhead({ maxConcurrent: 0 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
      expect(() => new Bulkhead({ maxQueued: -1 })).toThrow(/maxQueued/);
    });
  });
});
