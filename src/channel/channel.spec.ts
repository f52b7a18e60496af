import { getEventListeners } from "node:events";
import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { Metadata } from "../rpc/metadata.js";
import { EchoResponseSchema } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { echoCall, endpoint, FakeResolver, fakeTransports, refused } from "../../test/support/channel-fakes.js";
import { rejection } from "../../test/support/rejection.js";
import { createChannel, type Channel, type ChannelOptions } from "./channel.js";
import type { ChannelEvent } from "./channel-events.js";

/** Lets pending microtasks (transport creation, state changes) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

const open: Channel[] = [];

function setup(options: Partial<ChannelOptions> = {}) {
  const resolver = new FakeResolver();
  const fakes = fakeTransports();
  const channel = createChannel({ resolver, transportFor: fakes.transportFor, target: "test:///echo", ...options });
  open.push(channel);
  const events: ChannelEvent[] = [];
  channel.events.onAny((e) => events.push(e));
  return { resolver, channel, transports: fakes.transports, events };
}

async function textOf(channel: Channel, options: Parameters<typeof echoCall>[0] = {}): Promise<string> {
  const res = await channel.call(echoCall(options));
  if (res.stream) throw new Error("unexpected stream");
  return (res.message as unknown as { text: string }).text;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  vi.useRealTimers();
});

describe("Channel", () => {
  describe("call()", () => {
    it("spreads calls over the resolved endpoints (round robin by default)", async () => {
      const { resolver, channel, transports } = setup();
      resolver.update("fake://a", "fake://b", "fake://c");
      await flush();
      for (let i = 0; i < 300; i++) await textOf(channel);
      expect([...transports.values()].map((t) => t.calls)).toEqual([100, 100, 100]);
    });

    it("waits for the first resolution, then sends the call (wait-for-ready)", async () => {
      const { resolver, channel } = setup();
      const pending = textOf(channel, { deadline: Date.now() + 5_000 });
      await flush();
      expect(channel.queuedCalls).toBe(1);
      resolver.update("fake://late");
      await expect(pending).resolves.toBe("fake://late");
      expect(channel.queuedCalls).toBe(0);
    });

    it("waits through an empty resolution until an endpoint appears", async () => {
      const { resolver, channel } = setup();
      resolver.update();
      const pending = textOf(channel, { deadline: Date.now() + 5_000 });
      await flush();
      resolver.update("fake://a");
      await expect(pending).resolves.toBe("fake://a");
    });

    it("fails with DEADLINE_EXCEEDED when no endpoint is ready by the deadline", async () => {
      vi.useFakeTimers();
      const { resolver, channel } = setup();
      resolver.update();
      const pending = rejection(channel.call(echoCall({ deadline: Date.now() + 1_000 })));
      await vi.advanceTimersByTimeAsync(999);
      expect(channel.queuedCalls).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      const error = await pending;
      expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
      expect(error.message).toContain("the resolver returned no endpoints");
      expect(vi.getTimerCount()).toBe(0);
    });

    it("fails with UNAVAILABLE after waitForReadyTimeoutMs without a deadline, naming the resolver's last error", async () => {
      vi.useFakeTimers();
      const { resolver, channel } = setup({ waitForReadyTimeoutMs: 2_000 });
      resolver.fail("registry unreachable");
      const pending = rejection(channel.call(echoCall()));
      await vi.advanceTimersByTimeAsync(2_000);
      const error = await pending;
      expect(error.code).toBe(Code.UNAVAILABLE);
      expect(error.message).toContain("no resolution yet; last resolver error: [UNAVAILABLE] registry unreachable");
    });

    it("fails at once with UNAVAILABLE when waitForReady is false and the resolution is empty", async () => {
      const { resolver, channel } = setup({ waitForReady: false });
      resolver.update();
      const error = await rejection(channel.call(echoCall()));
      expect(error.code).toBe(Code.UNAVAILABLE);
      expect(error.message).toContain("no ready endpoint");
    });

    it("fails with the signal's reason when cancelled while waiting, and removes its listener", async () => {
      const { channel } = setup();
      const controller = new AbortController();
      const pending = rejection(channel.call(echoCall({ signal: controller.signal, deadline: Date.now() + 60_000 })));
      await flush();
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
      controller.abort(new FerryError(Code.CANCELLED, "user gave up"));
      expect((await pending).rawMessage).toBe("user gave up");
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    });

    it("sends a call whose connection was refused again on another subchannel (transparent retry)", async () => {
      const { resolver, channel, transports, events } = setup();
      resolver.update("fake://a", "fake://b", "fake://c");
      await flush();
      transports.get("fake://b")!.failWith = refused("fake://b");
      const texts = await Promise.all(Array.from({ length: 30 }, () => textOf(channel)));
      expect(texts).not.toContain("fake://b");
      expect(transports.get("fake://b")!.calls).toBeGreaterThanOrEqual(1);
      const failed = events.filter((e) => e.type === "subchannel.state" && e.endpoint.url === "fake://b" && e.state === "TRANSIENT_FAILURE");
      expect(failed).toHaveLength(1);
    });

    it("does not resend a call the server failed (status without a local cause)", async () => {
      const { resolver, channel, transports } = setup();
      resolver.update("fake://a");
      await flush();
      transports.get("fake://a")!.failWith = new FerryError(Code.UNAVAILABLE, "server draining");
      const error = await rejection(channel.call(echoCall()));
      expect(error.rawMessage).toBe("server draining");
      expect(transports.get("fake://a")!.calls).toBe(1);
      expect(channel.subchannels[0].state).toBe("READY");
    });

    it("makes a failed subchannel READY again after its reconnect backoff", async () => {
      vi.useFakeTimers();
      const { resolver, channel, transports } = setup({ reconnectBackoff: { initialBackoffMs: 1_000, random: () => 1 } });
      resolver.update("fake://a", "fake://b");
      await vi.advanceTimersByTimeAsync(0);
      transports.get("fake://a")!.failWith = refused("fake://a");
      for (let i = 0; i < 4; i++) expect(await textOf(channel)).toBe("fake://b");
      expect(channel.subchannels.map((s) => s.state)).toEqual(["TRANSIENT_FAILURE", "READY"]);
      transports.get("fake://a")!.failWith = undefined;
      await vi.advanceTimersByTimeAsync(1_000);
      expect(channel.subchannels.map((s) => s.state)).toEqual(["READY", "READY"]);
      const texts = new Set([await textOf(channel), await textOf(channel)]);
      expect(texts).toEqual(new Set(["fake://a", "fake://b"]));
    });

    it("counts a call as active until it ends", async () => {
      const { resolver, channel, transports } = setup();
      resolver.update("fake://a");
      await flush();
      let open!: () => void;
      transports.get("fake://a")!.gate = new Promise<void>((r) => (open = r));
      const pending = textOf(channel);
      expect(channel.subchannels[0].activeCalls).toBe(1);
      open();
      await pending;
      expect(channel.subchannels[0].activeCalls).toBe(0);
      expect(channel.subchannels[0].latencyEwmaMs).toBeGreaterThanOrEqual(0);
    });
  });

  describe("call() bookkeeping", () => {
    it("leaves no timer, signal listener, queued call or active call behind over 10,000 calls", async () => {
      vi.useFakeTimers();
      const { resolver, channel } = setup();
      const controllers = Array.from({ length: 10_000 }, () => new AbortController());
      // 2,000 calls wait for the first endpoint (each with a timer and a signal listener) …
      const waiting = controllers.slice(0, 2_000).map((c) => channel.call(echoCall({ signal: c.signal, deadline: Date.now() + 60_000 })));
      await vi.advanceTimersByTimeAsync(0);
      expect(channel.queuedCalls).toBe(2_000);
      resolver.update("fake://a", "fake://b");
      await vi.advanceTimersByTimeAsync(0);
      await Promise.all(waiting);
      // … then 8,000 go straight through.
      await Promise.all(controllers.slice(2_000).map((c) => channel.call(echoCall({ signal: c.signal }))));
      expect(channel.queuedCalls).toBe(0);
      expect(controllers.filter((c) => getEventListeners(c.signal, "abort").length > 0)).toHaveLength(0);
      expect(channel.subchannels.map((s) => s.activeCalls)).toEqual([0, 0]);
      expect(vi.getTimerCount()).toBe(1); // outlier detection's interval only
      await channel.close();
      expect(vi.getTimerCount()).toBe(0);
    });

    it("counts a server stream as active until it is read to its end", async () => {
      const { resolver, channel, transports } = setup();
      resolver.update("fake://a");
      await flush();
      const t = transports.get("fake://a")!;
      t.call = async () => ({
        stream: true,
        messages: (async function* () {
          yield create(EchoResponseSchema, { text: "1" });
          yield create(EchoResponseSchema, { text: "2" });
        })(),
        headers: new Metadata(),
        trailers: new Metadata({ "x-done": "yes" }),
      });
      const res = await channel.call(echoCall());
      expect(channel.subchannels[0].activeCalls).toBe(1);
      if (!res.stream) throw new Error("expected a stream");
      const texts: string[] = [];
      for await (const m of res.messages) texts.push((m as unknown as { text: string }).text);
      expect(texts).toEqual(["1", "2"]);
      expect(res.trailers.getText("x-done")).toBe("yes");
      expect(channel.subchannels[0].activeCalls).toBe(0);
    });
  });

  describe("outlier detection", () => {
    it("ejects an endpoint after consecutive failures and restores it after the ejection time", async () => {
      vi.useFakeTimers();
      const { resolver, channel, transports, events } = setup({
        outlierDetection: { consecutiveFailures: 3, intervalMs: 1_000, baseEjectionTimeMs: 5_000, maxEjectionPercent: 50 },
      });
      resolver.update("fake://a", "fake://b", "fake://c");
      await vi.advanceTimersByTimeAsync(0);
      transports.get("fake://b")!.failWith = new FerryError(Code.INTERNAL, "boom");
      let failures = 0;
      for (let i = 0; i < 30; i++) await textOf(channel).catch(() => failures++);
      expect(failures).toBe(3);
      expect(channel.subchannels.find((s) => s.endpoint.url === "fake://b")!.ejected).toBe(true);
      const ejected = events.find((e) => e.type === "endpoint.ejected");
      expect(ejected).toMatchObject({ type: "endpoint.ejected", target: "test:///echo", reason: "consecutive-failures", ejectionTimeMs: 5_000 });
      transports.get("fake://b")!.failWith = undefined;
      await vi.advanceTimersByTimeAsync(5_000);
      expect(events.some((e) => e.type === "endpoint.restored" && e.endpoint.url === "fake://b")).toBe(true);
      const texts = await Promise.all(Array.from({ length: 3 }, () => textOf(channel)));
      expect(texts).toContain("fake://b");
    });
  });

  describe("resolution", () => {
    it("closes the subchannel of an endpoint that left and stops sending to it", async () => {
      const { resolver, channel, transports } = setup();
      resolver.update("fake://a", "fake://b", "fake://c");
      await flush();
      resolver.update("fake://a", "fake://c");
      await flush();
      expect(transports.get("fake://b")!.closed).toBe(true);
      const texts = new Set(await Promise.all(Array.from({ length: 10 }, () => textOf(channel))));
      expect(texts).toEqual(new Set(["fake://a", "fake://c"]));
    });

    it("keeps the subchannel (and its connection) of an endpoint whose weight changed", async () => {
      const { resolver, channel, transports } = setup({ balancer: "weighted_round_robin" });
      resolver.update(endpoint("fake://a", 1), endpoint("fake://b", 1));
      await flush();
      resolver.update(endpoint("fake://a", 3), endpoint("fake://b", 1));
      await flush();
      expect(transports.get("fake://a")!.closed).toBe(false);
      for (let i = 0; i < 400; i++) await textOf(channel);
      expect(transports.get("fake://a")!.calls).toBe(300);
    });

    it("keeps the last endpoint list when the resolver reports an error", async () => {
      const { resolver, channel, events } = setup();
      resolver.update("fake://a");
      await flush();
      resolver.fail("watch lost");
      expect(await textOf(channel)).toBe("fake://a");
      expect(events.some((e) => e.type === "resolver.error")).toBe(true);
    });
  });

  describe("events", () => {
    it("reports subchannel states and picker updates", async () => {
      const { resolver, channel, events } = setup();
      resolver.update("fake://a");
      await flush();
      const states = events.filter((e) => e.type === "subchannel.state").map((e) => (e.type === "subchannel.state" ? `${e.previous}>${e.state}` : ""));
      expect(states).toEqual(["IDLE>CONNECTING", "CONNECTING>READY"]);
      const last = events.filter((e) => e.type === "picker.updated").at(-1);
      expect(last).toMatchObject({ state: "READY", ready: 1, total: 1, ejected: 0 });
      expect(channel.state).toBe("READY");
    });

    it("never lets a throwing listener break a call", async () => {
      const { resolver, channel } = setup();
      channel.events.on("picker.updated", () => {
        throw new Error("observer bug");
      });
      resolver.update("fake://a");
      await expect(textOf(channel)).resolves.toBe("fake://a");
    });
  });

  describe("close()", () => {
    it("fails waiting and later calls with UNAVAILABLE, closes transports and the resolver, leaves no timer", async () => {
      vi.useFakeTimers();
      const { resolver, channel, transports } = setup();
      resolver.update("fake://a");
      await vi.advanceTimersByTimeAsync(0);
      resolver.update();
      const waiting = rejection(channel.call(echoCall({ deadline: Date.now() + 60_000 })));
      await vi.advanceTimersByTimeAsync(0);
      await channel.close();
      expect((await waiting).code).toBe(Code.UNAVAILABLE);
      expect((await rejection(channel.call(echoCall()))).message).toContain("is closed");
      expect(transports.get("fake://a")!.closed).toBe(true);
      expect(resolver.closed).toBe(true);
      expect(channel.state).toBe("SHUTDOWN");
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  it("rejects bad options with INVALID_ARGUMENT", () => {
    const resolver = new FakeResolver();
    expect(() => createChannel({ resolver, balancer: "nope" as never })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    expect(() => createChannel({ resolver, waitForReadyTimeoutMs: -1 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
  });
});
