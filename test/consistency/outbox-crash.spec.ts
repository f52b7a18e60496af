/**
 * Crash injection for the outbox, as the outbox literature defines
 * correctness, with the real PostgreSQL and NATS JetStream: a relay process
 * is killed with SIGKILL after the commit and before publishing, in the
 * middle of a batch, and after publishing before marking rows sent; a
 * consumer process is killed after its effect committed and before its
 * ack. Then every committed row arrives (at least once; exactly once here,
 * since JetStream drops a republished message id), no rolled-back row
 * arrives, per-key order holds, and inbox effects happen exactly once.
 */
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultPoint, type FaultPointName } from "../../src/consistency/fault-hook.js";
import { createInbox } from "../../src/consistency/inbox.js";
import { createOutbox } from "../../src/consistency/outbox.js";
import { createOutboxRelay } from "../../src/consistency/outbox-relay.js";
import { createBroker, type Broker } from "../../src/messaging/broker.js";
import { natsStreamName } from "../../src/messaging/nats/nats-topology.js";
import { checkService } from "../support/services.js";
import { exited, forkChild } from "./child-support.js";
import { collect, testTopic } from "./test-brokers.js";
import { natsUrl, openPostgres, quietLogger, testSchema, waitFor, type TestStore } from "./test-stores.js";

const pg = await checkService("PostgreSQL", "127.0.0.1", 5432);
const nats = pg.skip ? pg : await checkService("NATS", "127.0.0.1", 4222);
const relayChild = fileURLToPath(new URL("./relay-child.ts", import.meta.url));
const consumerChild = fileURLToPath(new URL("./inbox-consumer-child.ts", import.meta.url));

describe.skipIf(pg.skip || nats.skip)("outbox crash injection (PostgreSQL, NATS)", () => {
  let t: TestStore;
  let broker: Broker;
  const roots: string[] = [];
  beforeAll(async () => {
    t = await openPostgres(testSchema());
    broker = await createBroker(natsUrl);
  });
  afterAll(async () => {
    await broker?.close();
    await t?.dispose();
    const nc = await connect({ servers: "127.0.0.1:4222" });
    const jsm = await jetstreamManager(nc);
    for (const root of roots) await jsm.streams.delete(natsStreamName(`${root}.events`)).catch(() => false);
    await nc.close();
  });

  async function commitRows(topic: ReturnType<typeof testTopic>): Promise<{ committed: string[]; rolledBack: string[] }> {
    const outbox = createOutbox({ schema: t.store.schema });
    const committed: string[] = [];
    const rolledBack: string[] = [];
    for (let i = 0; i < 36; i++) {
      await t.store
        .transaction(async (tx) => {
          const id = await outbox.publish(tx, topic, { text: `${i % 3}:${i}` }, { orderingKey: `k${i % 3}` });
          if (i % 6 === 5) {
            rolledBack.push(id);
            throw new Error("rollback");
          }
          committed.push(id);
        })
        .catch(() => undefined);
    }
    return { committed, rolledBack };
  }

  it.each([
    [FaultPoint.relayAfterClaim, 1],
    [FaultPoint.relayAfterFirstPublish, 1],
    [FaultPoint.relayBeforeMarkSent, 2],
  ] as [FaultPointName, number][])("delivers every committed row once, in key order, after a relay SIGKILL at %s", async (point, hit) => {
    const root = `ferry-crash-${Math.random().toString(36).slice(2, 8)}`;
    roots.push(root);
    const topic = testTopic(root);
    const sink = await collect(broker, topic, "g");
    const { committed, rolledBack } = await commitRows(topic);
    const child = forkChild(relayChild, { url: t.url, schema: t.store.schema, brokerUrl: natsUrl, point, hit, batchSize: 8 });
    expect(await exited(child)).toBe("SIGKILL");
    const relay = createOutboxRelay({ store: t.store, broker, pollIntervalMs: 50, logger: quietLogger });
    await relay.start();
    await waitFor(async () => new Set(sink.received.map((r) => r.messageId)).size >= committed.length, "every committed row", 20_000);
    await relay.stop();
    await new Promise((r) => setTimeout(r, 300));
    await sink.stop();
    const ids = sink.received.map((r) => r.messageId);
    expect([...ids].sort()).toEqual([...committed].sort()); // exactly once: JetStream dropped the republished ids
    for (const id of rolledBack) expect(ids).not.toContain(id);
    for (const key of ["0", "1", "2"]) {
      const seq = sink.received.filter((r) => r.text.startsWith(`${key}:`)).map((r) => Number(r.text.split(":")[1]));
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
    }
  });

  it("has each effect exactly once when a consumer is killed after its effect and before its ack", async () => {
    const root = `ferry-crash-${Math.random().toString(36).slice(2, 8)}`;
    roots.push(root);
    const topic = testTopic(root);
    await t.store.query(`CREATE TABLE IF NOT EXISTS ${t.store.schema}.effects (text text)`);
    const texts = ["a", "b", "c"];
    for (const text of texts) await broker.publish(topic, { text });
    for (let i = 0; i < texts.length; i++) {
      const child = forkChild(consumerChild, { url: t.url, schema: t.store.schema, brokerUrl: natsUrl, topic: topic.name, group: "effects" });
      expect(await exited(child)).toBe("SIGKILL");
    }
    const inbox = createInbox({ group: "effects", schema: t.store.schema });
    const handle = inbox.handler<(typeof topic)["schema"]>(t.store, async (tx, m) => {
      await tx.query(`INSERT INTO ${t.store.schema}.effects VALUES ($1)`, [m.text]);
    });
    let deliveries = 0;
    const sub = await broker.subscribe(topic, { group: "effects", ackTimeoutMs: 1000 }, async (m, d) => {
      deliveries++;
      await handle(m, d);
    });
    // Every message was taken by a killed child and never acked: each comes back after the ack timeout.
    await waitFor(() => deliveries >= texts.length, "the unacked messages to be redelivered", 15_000);
    await sub.stop();
    const rows = await t.store.query<{ text: string }>(`SELECT text FROM ${t.store.schema}.effects ORDER BY text`);
    expect(rows.map((r) => r.text)).toEqual(texts);
  });
});
