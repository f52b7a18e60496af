/**
 * What the conformance suite does not see of the AMQP adapter: option
 * parsing, naming, header mapping, errors, classic queues' counted nack,
 * `>` versus `#`, publisher confirms, queue types, consumer recovery after
 * its channel closes.
 */
import { randomBytes } from "node:crypto";
import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../rpc/code.js";
import { getDefaultLogger } from "../../util/logger.js";
import type { RawDelivery } from "../adapter.js";
import { createBroker, defineTopic, FerryHeader, type Broker } from "../index.js";
import { EchoRequestSchema } from "../../../test/gen/ferry/test/v1/echo_pb.js";
import { checkService } from "../../../test/support/services.js";
import { rejection } from "../../../test/support/rejection.js";
import { amqpTestUrl, cleanupAmqp } from "../../../test/messaging/amqp-service.js";
import { startPausableProxy } from "../../../test/messaging/pausable-proxy.js";
import { clientLibraryLoads } from "../../../test/messaging/lazy-load.js";
import { fileURLToPath } from "node:url";
import { adapterFactory, type AmqpAdapter } from "./amqp-adapter.js";
import { deliveryAttemptOf, ferryHeadersOf } from "./amqp-headers.js";
import { parseAmqpOptions } from "./amqp-options.js";
import { bindingKeyFor, queueArguments, queueNameFor, resolveQueueType, versionAtLeast } from "./amqp-topology.js";

const check = await checkService("RabbitMQ", "127.0.0.1", 5672);
const exchange = `ferry-spec-${randomBytes(3).toString("hex")}`;
const root = `a${randomBytes(3).toString("hex")}`;
const logger = getDefaultLogger();
const fast = { initialMs: 10, maxMs: 20, multiplier: 1, jitter: 0 };

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function record(topic: string, text = "x", headers: Record<string, string> = {}) {
  return { topic, payload: new TextEncoder().encode(text), headers, messageId: "m", dedupId: undefined, orderingKey: undefined };
}

describe("amqp topology and headers", () => {
  it("maps Ferry's final > to # and keeps *", () => {
    expect(bindingKeyFor("orders.*.>")).toBe("orders.*.#");
    expect(bindingKeyFor("orders.created")).toBe("orders.created");
  });

  it("names a group's queue <exchange>.<group>.<topic> and shortens names over 255 bytes with a hash", () => {
    expect(queueNameFor("ferry", "billing", "shop.order.placed")).toBe("ferry.billing.shop.order.placed");
    const long = queueNameFor("ferry", "g".repeat(100), "t".repeat(200));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(255);
    expect(long).not.toBe(queueNameFor("ferry", "g".repeat(100), "t".repeat(199) + "u"));
  });

  it("chooses quorum queues from RabbitMQ 3.8 and switches off RabbitMQ 4's delivery limit", () => {
    expect(versionAtLeast("3.10.8", 3, 8)).toBe(true);
    expect(versionAtLeast("3.7.28", 3, 8)).toBe(false);
    expect(resolveQueueType("auto", "3.7.0")).toBe("classic");
    expect(resolveQueueType("auto", "3.10.8")).toBe("quorum");
    expect(queueArguments("quorum", "3.10.8")).toEqual({ "x-queue-type": "quorum" });
    expect(queueArguments("quorum", "4.1.0")).toEqual({ "x-queue-type": "quorum", "x-delivery-limit": -1 });
    expect(queueArguments("classic", "4.1.0")).toEqual({});
  });

  it("hands on string headers only, without RabbitMQ's x-delivery-count and x-death", () => {
    const table = { "ferry-message-id": "1", "x-user": "u", "x-delivery-count": 2, "x-death": [{}], "ferry-amqp-attempt": "1", "ferry-amqp-topic": "t", n: 5 };
    expect(ferryHeadersOf(table)).toEqual({ "ferry-message-id": "1", "x-user": "u" });
  });

  it("counts attempts from x-delivery-count, else from the adapter's counter and the redelivered flag", () => {
    expect(deliveryAttemptOf({ "x-delivery-count": 2 }, true)).toBe(3);
    expect(deliveryAttemptOf({}, false)).toBe(1);
    expect(deliveryAttemptOf({}, true)).toBe(2);
    expect(deliveryAttemptOf({ "ferry-amqp-attempt": "3" }, false)).toBe(4);
  });

  it("reads options from the URL query and adapterOptions, and passes the rest to amqplib", () => {
    const { options, connectUrl } = parseAmqpOptions(new URL("amqp://h:5672/v?exchange=shop&heartbeat=5"), { queueType: "classic" });
    expect(options).toEqual({ exchange: "shop", queueType: "classic", maxMessageBytes: 128 * 1024 * 1024, publishTimeoutMs: 10_000 });
    expect(connectUrl).toBe("amqp://h:5672/v?heartbeat=5");
  });

  it("raises INVALID_ARGUMENT for a bad exchange, queue type or size limit", () => {
    const url = new URL("amqp://h");
    for (const bad of [{ exchange: "amq.topic" }, { exchange: "a b" }, { queueType: "stream" }, { maxMessageBytes: 0 }, { publishTimeoutMs: -1 }]) {
      expect(() => parseAmqpOptions(url, bad)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    }
  });
});

describe.skipIf(check.skip)("AmqpAdapter", () => {
  const url = `${amqpTestUrl}?exchange=${exchange}`;
  let adapter: AmqpAdapter;
  const brokers: Broker[] = [];

  beforeAll(async () => {
    adapter = (await adapterFactory(new URL(url), { logger, adapterOptions: {} })) as AmqpAdapter;
  });
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await adapter?.close();
    await cleanupAmqp(exchange, root, true);
  });

  describe("adapterFactory()", () => {
    it("loads amqplib only when it runs, not when the adapter module is imported", async () => {
      const modulePath = fileURLToPath(new URL("./amqp-adapter.ts", import.meta.url));
      const { before, after } = await clientLibraryLoads(modulePath, amqpTestUrl, "amqplib");
      expect(before).toBe(0);
      expect(after).toBeGreaterThan(0);
    });

    it("raises UNAVAILABLE when the broker cannot be reached", async () => {
      const err = await rejection(adapterFactory(new URL("amqp://guest:guest@127.0.0.1:1"), { logger, adapterOptions: {} }));
      expect(err.code).toBe(Code.UNAVAILABLE);
    });
  });

  describe("publish()", () => {
    it("resolves once confirmed, the message then being in the group's queue with its headers", async () => {
      const topic = `${root}.confirm`;
      const got: RawDelivery[] = [];
      const consumer = await adapter.consume(
        { topic, group: "g", startAt: { kind: "new" }, prefetch: 5, ackTimeoutMs: 1000, maxDeliveries: 5 },
        { deliver: (d) => void got.push(d), error: () => {} },
      );
      expect(await adapter.publish(record(topic, "hello", { "x-k": "v" }))).toEqual({ sequence: "", duplicate: false });
      await until(() => got.length === 1, "the delivery");
      expect(new TextDecoder().decode(got[0].payload)).toBe("hello");
      expect(got[0].headers).toEqual({ "x-k": "v" });
      expect(got[0].deliveryAttempt).toBe(1);
      await got[0].ack();
      await got[0].ack(); // settling twice does not throw
      await consumer.stop();
      await consumer.close();
    });

    it("raises RESOURCE_EXHAUSTED before sending a message over maxMessageBytes", async () => {
      const small = (await adapterFactory(new URL(`${url}&maxMessageBytes=100`), { logger, adapterOptions: {} })) as AmqpAdapter;
      try {
        const err = await rejection(small.publish(record(`${root}.big`, "y".repeat(101))));
        expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
        expect(err.message).toMatch(/101 bytes exceeds maxMessageBytes 100/);
      } finally {
        await small.close();
      }
    });

    it("raises UNAVAILABLE when no confirm arrives within publishTimeoutMs", async () => {
      const proxy = await startPausableProxy("127.0.0.1", 5672);
      const cut = await adapterFactory(new URL(`amqp://guest:guest@127.0.0.1:${proxy.port}?exchange=${exchange}&publishTimeoutMs=300`), {
        logger,
        adapterOptions: {},
      });
      try {
        await cut.publish(record(`${root}.cut`)); // opens the channel while replies still flow
        proxy.pause();
        const err = await rejection(cut.publish(record(`${root}.cut`)));
        expect(err.code).toBe(Code.UNAVAILABLE);
        expect(err.message).toMatch(/no confirm within 300 ms/);
      } finally {
        await proxy.close();
        await cut.close();
      }
    });

    it("raises FAILED_PRECONDITION after close()", async () => {
      const other = await adapterFactory(new URL(url), { logger, adapterOptions: {} });
      await other.close();
      expect((await rejection(other.publish(record(`${root}.closed`)))).code).toBe(Code.FAILED_PRECONDITION);
    });
  });

  describe("consume()", () => {
    it("raises UNIMPLEMENTED for startAt by sequence or time", async () => {
      const sink = { deliver: () => {}, error: () => {} };
      for (const startAt of [{ kind: "sequence", sequence: "1" }, { kind: "time", timeMs: 0 }] as const) {
        const spec = { topic: `${root}.replay`, group: "g", startAt, prefetch: 1, ackTimeoutMs: 1000, maxDeliveries: 1 };
        expect((await rejection(adapter.consume(spec, sink))).code).toBe(Code.UNIMPLEMENTED);
      }
    });

    it("does not deliver the topic itself to a subscription to topic.> (AMQP's # would match it)", async () => {
      const got: string[] = [];
      const consumer = await adapter.consume(
        { topic: `${root}.w.>`, group: "g", startAt: { kind: "new" }, prefetch: 5, ackTimeoutMs: 1000, maxDeliveries: 5 },
        { deliver: (d) => void (got.push(d.topic), d.ack()), error: () => {} },
      );
      await adapter.publish(record(`${root}.w`));
      await adapter.publish(record(`${root}.w.a.b`));
      await until(() => got.length === 1, "the deep message");
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual([`${root}.w.a.b`]);
      await consumer.close();
    });

    it("consumes again after the broker cancelled it (its queue deleted under it)", async () => {
      const topic = `${root}.reopen`;
      const got: string[] = [];
      const errors: unknown[] = [];
      const consumer = await adapter.consume(
        { topic, group: "g", startAt: { kind: "new" }, prefetch: 5, ackTimeoutMs: 1000, maxDeliveries: 5 },
        { deliver: (d) => void (got.push(new TextDecoder().decode(d.payload)), d.ack()), error: (e) => void errors.push(e) },
      );
      const conn = await connect(amqpTestUrl);
      const ch = await conn.createChannel();
      await ch.deleteQueue(queueNameFor(exchange, "g", topic));
      await conn.close();
      await until(() => errors.length === 1, "the cancel report");
      expect(errors[0]).toMatchObject({ code: Code.UNAVAILABLE });
      // Once redeclared, the queue receives and delivers again.
      const end = Date.now() + 10_000;
      while (!got.includes("again") && Date.now() < end) {
        await adapter.publish(record(topic, "again"));
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(got).toContain("again");
      await consumer.close();
    });
  });

  describe("classic queues", () => {
    it("count failed deliveries themselves, so maxDeliveries dead-letters with the attempt count", async () => {
      const broker = await createBroker(url, { adapterOptions: { queueType: "classic" } });
      brokers.push(broker);
      const topic = defineTopic(`${root}.classic`, EchoRequestSchema);
      const attempts: number[] = [];
      await broker.subscribe(topic, { group: "c", maxDeliveries: 3, backoff: fast }, (_m, d) => {
        attempts.push(d.deliveryAttempt);
        throw new Error("no");
      });
      const dead: Record<string, string>[] = [];
      await broker.subscribe(defineTopic(topic.deadLetterTopic, EchoRequestSchema), { group: "dl" }, (_m, d) => void dead.push({ ...d.headers }));
      await broker.publish(topic, { text: "poison" });
      await until(() => dead.length === 1, "the dead letter");
      expect(attempts).toEqual([1, 2, 3]);
      expect(dead[0][FerryHeader.deadLetterAttempts]).toBe("3");
      expect(dead[0][FerryHeader.deadLetterTopic]).toBe(topic.name);
      expect(dead[0][FerryHeader.deadLetterTopic]).toBe(topic.name);
      expect(dead[0]["ferry-amqp-attempt"]).toBeUndefined();
    });
  });
});
