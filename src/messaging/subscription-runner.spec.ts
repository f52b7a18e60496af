import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { toBinary, create } from "@bufbuild/protobuf";
import { EchoRequestSchema, type EchoRequest } from "../../test/gen/ferry/test/v1/echo_pb.js";
import type { AdapterCapabilities, BrokerAdapter, ConsumerSpec, DeliverySink, OutgoingRecord, RawDelivery } from "./adapter.js";
import { resolveSubscribeOptions, type SubscribeOptions } from "./subscribe-options.js";
import { SubscriptionRunner } from "./subscription-runner.js";
import { defineTopic } from "./topic.js";
import type { Delivery } from "./delivery.js";
import { FerryHeader } from "./headers.js";

/** A scripted adapter: the test hands deliveries in and sees every settle and publish. */
class ScriptedAdapter implements BrokerAdapter {
  readonly name = "scripted";
  readonly capabilities: AdapterCapabilities;
  sink: DeliverySink | undefined;
  spec: ConsumerSpec | undefined;
  readonly published: OutgoingRecord[] = [];
  readonly settled: string[] = [];

  constructor(delayedNack: boolean) {
    this.capabilities = { deduplication: false, wildcards: false, delayedNack, replayBySequence: false, replayByTime: false, replayFromBeginning: false, durable: false, maxMessageBytes: 1 << 20 };
  }

  async publish(record: OutgoingRecord) {
    this.published.push(record);
    return { sequence: String(this.published.length), duplicate: false };
  }

  async consume(spec: ConsumerSpec, sink: DeliverySink) {
    this.spec = spec;
    this.sink = sink;
    return { stop: async () => {}, close: async () => {} };
  }

  async close() {}

  deliver(text: string, attempt = 1, headers: Record<string, string> = {}, payload?: Uint8Array): void {
    const d: RawDelivery = {
      topic: "t.a",
      payload: payload ?? toBinary(EchoRequestSchema, create(EchoRequestSchema, { text })),
      headers: { [FerryHeader.messageId]: `id-${text}`, ...headers },
      sequence: "7",
      deliveryAttempt: attempt,
      publishTimeMs: 1000,
      ack: async () => void this.settled.push(`ack ${text}`),
      nack: async (ms) => void this.settled.push(`nack ${text} ${ms}`),
    };
    this.sink!.deliver(d);
  }
}

const topic = defineTopic("t.a", EchoRequestSchema);

async function run(adapter: ScriptedAdapter, options: Partial<SubscribeOptions>, handler: (m: EchoRequest, d: Delivery) => unknown) {
  const runner = new SubscriptionRunner({
    adapter,
    topic,
    options: resolveSubscribeOptions({ group: "g", backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, ...options }),
    handler: handler as never,
    logger: { error() {}, warn() {}, info() {}, debug() {} },
    onStopped() {},
  });
  await runner.start();
  return runner;
}

describe("SubscriptionRunner", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("acks when the handler returns and nacks with the backoff delay of the attempt when it throws", async () => {
    const adapter = new ScriptedAdapter(true);
    await run(adapter, {}, (m) => {
      if (m.text === "bad") throw new Error("no");
    });
    adapter.deliver("ok");
    adapter.deliver("bad", 1);
    adapter.deliver("bad", 3);
    await vi.runAllTimersAsync();
    expect(adapter.settled).toEqual(["ack ok", "nack bad 100", "nack bad 400"]);
  });

  it("holds a failed message for the delay when the broker cannot delay, then returns it", async () => {
    const adapter = new ScriptedAdapter(false);
    await run(adapter, {}, () => {
      throw new Error("no");
    });
    adapter.deliver("bad", 2);
    await vi.advanceTimersByTimeAsync(199);
    expect(adapter.settled).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(adapter.settled).toEqual(["nack bad 0"]);
  });

  it("dead-letters on the last attempt with the reason, then acks", async () => {
    const adapter = new ScriptedAdapter(true);
    await run(adapter, { maxDeliveries: 3 }, () => {
      throw new TypeError("price missing");
    });
    adapter.deliver("bad", 3, { "x-a": "1" });
    await vi.runAllTimersAsync();
    expect(adapter.settled).toEqual(["ack bad"]);
    expect(adapter.published).toHaveLength(1);
    expect(adapter.published[0]).toMatchObject({
      topic: "dead-letter.t.a",
      dedupId: "dl.g.t.a.7",
      headers: expect.objectContaining({
        "x-a": "1",
        [FerryHeader.deadLetterReason]: "price missing",
        [FerryHeader.deadLetterCode]: "UNKNOWN",
        [FerryHeader.deadLetterAttempts]: "3",
        [FerryHeader.deadLetterGroup]: "g",
      }),
    });
  });

  it("dead-letters an undecodable payload at once with DATA_LOSS and keeps going", async () => {
    const adapter = new ScriptedAdapter(true);
    const seen: string[] = [];
    await run(adapter, {}, (m) => void seen.push(m.text));
    adapter.deliver("garbage", 1, {}, new Uint8Array([0x0a, 0x05]));
    adapter.deliver("next");
    await vi.runAllTimersAsync();
    expect(adapter.published[0].headers[FerryHeader.deadLetterCode]).toBe("DATA_LOSS");
    expect(seen).toEqual(["next"]);
  });

  it("acks unseen what the header filter or a re-drive for another group excludes", async () => {
    const adapter = new ScriptedAdapter(true);
    const seen: string[] = [];
    await run(adapter, { filter: { headers: { region: "eu" } } }, (m) => void seen.push(m.text));
    adapter.deliver("us", 1, { region: "us" });
    adapter.deliver("other-group", 1, { region: "eu", [FerryHeader.redriveGroup]: "h" });
    adapter.deliver("eu", 1, { region: "eu" });
    await vi.runAllTimersAsync();
    expect(seen).toEqual(["eu"]);
    expect(adapter.settled.sort()).toEqual(["ack eu", "ack other-group", "ack us"]);
  });

  it("runs at most `concurrency` handlers and keeps one key's messages sequential", async () => {
    const adapter = new ScriptedAdapter(true);
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    await run(adapter, { concurrency: 3 }, async (m) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, m.text.startsWith("k") ? 30 - Number(m.text.slice(1)) * 10 : 5));
      order.push(m.text);
      running--;
    });
    for (const t of ["k0", "k1", "k2"]) adapter.deliver(t, 1, { [FerryHeader.orderingKey]: "k" });
    for (let i = 0; i < 6; i++) adapter.deliver(`free${i}`);
    await vi.runAllTimersAsync();
    expect(peak).toBe(3);
    expect(order.filter((t) => t.startsWith("k"))).toEqual(["k0", "k1", "k2"]);
  });

  it("retries a failed keyed message in place after the backoff, holding back later messages of its key", async () => {
    const adapter = new ScriptedAdapter(true);
    const order: string[] = [];
    let failures = 1;
    await run(adapter, { concurrency: 4 }, (m, d) => {
      if (m.text === "k0" && failures-- > 0) throw new Error("once");
      order.push(`${m.text}@${d.deliveryAttempt}`);
    });
    adapter.deliver("k0", 1, { [FerryHeader.orderingKey]: "k" });
    adapter.deliver("k1", 1, { [FerryHeader.orderingKey]: "k" });
    adapter.deliver("free");
    await vi.advanceTimersByTimeAsync(99);
    expect(order).toEqual(["free@1"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual(["free@1", "k0@2", "k1@1"]);
    expect(adapter.settled.sort()).toEqual(["ack free", "ack k0", "ack k1"]);
  });

  it("dead-letters a keyed message after maxDeliveries attempts counted across in-place retries", async () => {
    const adapter = new ScriptedAdapter(true);
    await run(adapter, { maxDeliveries: 3 }, () => {
      throw new Error("always");
    });
    adapter.deliver("k0", 1, { [FerryHeader.orderingKey]: "k" });
    await vi.runAllTimersAsync();
    expect(adapter.published[0].headers[FerryHeader.deadLetterAttempts]).toBe("3");
    expect(adapter.settled).toEqual(["ack k0"]);
  });

  describe("stop()", () => {
    it("lets running handlers finish, returns waiting messages at once, and starts nothing new", async () => {
      const adapter = new ScriptedAdapter(true);
      const runner = await run(adapter, { concurrency: 1 }, () => new Promise((r) => setTimeout(r, 100)));
      adapter.deliver("running");
      adapter.deliver("waiting");
      await vi.advanceTimersByTimeAsync(1);
      const stopped = runner.stop();
      await vi.advanceTimersByTimeAsync(100);
      await stopped;
      expect(adapter.settled).toEqual(["nack waiting 0", "ack running"]);
    });

    it("returns a keyed message waiting for its in-place retry to the broker at once", async () => {
      const adapter = new ScriptedAdapter(true);
      const runner = await run(adapter, {}, () => {
        throw new Error("no");
      });
      adapter.deliver("k0", 1, { [FerryHeader.orderingKey]: "k" });
      await vi.advanceTimersByTimeAsync(1);
      await runner.stop();
      expect(adapter.settled).toEqual(["nack k0 0"]);
    });

    it("aborts handlers still running after timeoutMs through delivery.signal and leaves them unacked", async () => {
      const adapter = new ScriptedAdapter(true);
      let signal: AbortSignal | undefined;
      const runner = await run(adapter, {}, (_m, d) => {
        signal = d.signal;
        return new Promise(() => {});
      });
      adapter.deliver("stuck");
      await vi.advanceTimersByTimeAsync(1);
      const stopped = runner.stop({ timeoutMs: 50 });
      await vi.advanceTimersByTimeAsync(50);
      await stopped;
      expect(signal?.aborted).toBe(true);
      expect(adapter.settled).toEqual([]);
    });
  });
});
