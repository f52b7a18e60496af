/**
 * The two optional adapter methods `ferry topics` relies on, called directly
 * on the real brokers: `listTopics()` (NATS, Redis; absent on RabbitMQ, which
 * cannot enumerate over AMQP 0-9-1) and `deleteGroup()` (NATS, RabbitMQ,
 * Redis). A broker that is not running is skipped with a one-line reason.
 */
import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueNameFor } from "../../src/messaging/amqp/amqp-topology.js";
import { BrokerClient, type Broker } from "../../src/messaging/broker.js";
import type { BrokerAdapter } from "../../src/messaging/adapter.js";
import { runRoot } from "../messaging/conformance-helpers.js";
import { echoTopic, eventually, libraryBroker, realBrokers } from "./topics-cli-helpers.js";

for (const { adapter, skip } of await realBrokers()) {
  describe.skipIf(skip)(`adapter listTopics / deleteGroup on ${adapter.name}`, () => {
    const root = runRoot();
    let broker: Broker;
    let raw: BrokerAdapter;

    beforeAll(async () => {
      broker = await libraryBroker(adapter);
      raw = (broker as BrokerClient).adapter;
    });

    afterAll(async () => {
      await broker?.close();
      await adapter.cleanup(root);
    });

    /** Whether `group` still reads `topic`, asked the broker's own way. */
    async function groupExists(topic: string, group: string): Promise<boolean> {
      if (raw.listTopics !== undefined) return ((await raw.listTopics()).find((t) => t.topic === topic)?.groups ?? []).includes(group);
      const exchange = new URL(adapter.url).searchParams.get("exchange") ?? "ferry";
      const conn = await connect(adapter.url.replace(/\?.*$/, ""));
      try {
        const ch = await conn.createChannel();
        ch.on("error", () => {});
        return await ch.checkQueue(queueNameFor(exchange, group, topic)).then(() => true, () => false);
      } finally {
        await conn.close().catch(() => {});
      }
    }

    it(adapter.name === "amqp" ? "has no listTopics (AMQP cannot enumerate)" : "listTopics reports each topic with its message count and groups", async () => {
      if (adapter.name === "amqp") return expect(raw.listTopics).toBeUndefined();
      const topic = `${root}.listed.1`;
      const sub = await broker.subscribe(echoTopic(topic), { group: "listers" }, () => {});
      await broker.publish(echoTopic(topic), { text: "a" });
      await broker.publish(echoTopic(topic), { text: "b" });
      await sub.stop();
      const listing = (await raw.listTopics!()).find((t) => t.topic === topic);
      expect(listing).toEqual({ topic, messages: 2, groups: ["listers"] });
    }, 60_000);

    it("deleteGroup removes a consumer group, and a missing one is not an error", async () => {
      const topic = `${root}.deleted.1`;
      const sub = await broker.subscribe(echoTopic(topic), { group: "doomed" }, () => {});
      await broker.publish(echoTopic(topic), { text: "so that NATS lists the subject" });
      await sub.stop();
      await eventually(() => groupExists(topic, "doomed"), "the group to exist");
      await raw.deleteGroup!(topic, "doomed");
      expect(await groupExists(topic, "doomed")).toBe(false);
      await expect(raw.deleteGroup!(topic, "doomed")).resolves.toBeUndefined();
      await expect(raw.deleteGroup!(`${root}.never.1`, "nobody")).resolves.toBeUndefined();
    }, 60_000);
  });
}
