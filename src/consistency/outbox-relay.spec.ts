import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, flakyMemoryBroker, testTopic, type FlakyBroker } from "../../test/consistency/test-brokers.js";
import { installTestPropagator, setTestTraceparent } from "../../test/consistency/test-propagator.js";
import { quietLogger, storeKinds, waitFor, type TestStore } from "../../test/consistency/test-stores.js";
import { createBroker } from "../messaging/broker.js";
import { Code } from "../rpc/code.js";
import { createOutbox } from "./outbox.js";
import { createOutboxRelay } from "./outbox-relay.js";

const kinds = await storeKinds();
installTestPropagator();
const fastBackoff = { initialMs: 5, maxMs: 10, jitter: 0 };

describe.each(kinds)("OutboxRelay on $name", (kind) => {
  let t: TestStore;
  let fb: FlakyBroker;
  beforeAll(async () => {
    if (kind.skip) return;
    t = await kind.open();
    fb = await flakyMemoryBroker();
  });
  afterAll(async () => {
    await fb?.broker.close();
    await t?.dispose();
  });
  const outbox = () => createOutbox({ schema: t.store.schema });

  it.skipIf(kind.skip)("publishes every committed row once and no rolled-back one, woken by NOTIFY", async () => {
    const topic = testTopic();
    const sink = await collect(fb.broker, topic, "g");
    const relay = createOutboxRelay({ store: t.store, broker: fb.broker, logger: quietLogger, pollIntervalMs: 60_000, batchSize: 7 });
    await relay.start();
    const committed: string[] = [];
    for (let i = 0; i < 20; i++) {
      const rollback = i % 4 === 3;
      await t.store
        .transaction(async (tx) => {
          const id = await outbox().publish(tx, topic, { text: `m${i}` }, { orderingKey: `k${i % 3}` });
          if (rollback) throw new Error("rolled back");
          committed.push(id);
        })
        .catch(() => undefined);
    }
    await waitFor(() => sink.received.length >= committed.length, "every committed row to arrive (NOTIFY wakes the relay; polling is 60 s)");
    await relay.stop();
    expect(sink.received.map((r) => r.messageId).sort()).toEqual([...committed].sort());
    await sink.stop();
  });

  it.skipIf(kind.skip)("keeps per-key order with two relays sharing the table", async () => {
    const topic = testTopic();
    const sink = await collect(fb.broker, topic, "g");
    const keys = ["a", "b", "c"];
    await t.store.transaction(async (tx) => {
      for (let i = 0; i < 30; i++) for (const k of keys) await outbox().publish(tx, topic, { text: `${k}:${i}` }, { orderingKey: k });
    });
    const relays = [0, 1].map(() => createOutboxRelay({ store: t.store, broker: fb.broker, logger: quietLogger, batchSize: 4, pollIntervalMs: 20 }));
    await Promise.all(relays.map((r) => r.start()));
    await waitFor(() => sink.received.length >= 90, "90 messages");
    await Promise.all(relays.map((r) => r.stop()));
    for (const k of keys) {
      const seen = sink.received.filter((r) => r.orderingKey === k).map((r) => Number(r.text.split(":")[1]));
      expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i));
    }
    await sink.stop();
  });

  it.skipIf(kind.skip)("retries after a broker outage with backoff, holding back later rows of the key", async () => {
    const topic = testTopic();
    const sink = await collect(fb.broker, topic, "g");
    const relay = createOutboxRelay({ store: t.store, broker: fb.broker, logger: quietLogger, backoff: fastBackoff, listen: false });
    await t.store.transaction(async (tx) => {
      for (let i = 0; i < 5; i++) await outbox().publish(tx, topic, { text: `${i}` }, { orderingKey: "k" });
    });
    const failures: number[] = [];
    relay.events.on("publishFailed", (e) => failures.push(e.attempts));
    fb.down = true;
    expect(await relay.publishBatch()).toBe(0);
    expect(failures).toEqual([1]); // only the head of the key was tried
    const rows = await t.store.query<{ last_error: string }>(`SELECT last_error FROM ${t.store.schema}.ferry_outbox WHERE topic = $1 AND attempts = 1`, [topic.name]);
    expect(rows).toEqual([{ last_error: "UNAVAILABLE: broker outage (test)" }]);
    fb.down = false;
    await new Promise((r) => setTimeout(r, 20));
    expect(await relay.publishBatch()).toBe(5);
    await waitFor(() => sink.received.length >= 5, "5 messages");
    expect(sink.received.map((r) => r.text)).toEqual(["0", "1", "2", "3", "4"]);
    await sink.stop();
  });

  it.skipIf(kind.skip)("carries the row's trace context to the consumer and ferry headers", async () => {
    const topic = testTopic();
    const sink = await collect(fb.broker, topic, "g");
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    setTestTraceparent(traceparent);
    const id = await t.store.transaction((tx) => outbox().publish(tx, topic, { text: "t" }, { headers: { tenant: "x" } }));
    setTestTraceparent(undefined);
    const relay = createOutboxRelay({ store: t.store, broker: fb.broker, logger: quietLogger, listen: false });
    await relay.publishBatch();
    await waitFor(() => sink.received.length >= 1, "the message");
    expect(sink.received[0].headers).toMatchObject({ traceparent, tenant: "x", "ferry-message-id": id, "ferry-type": "ferry.test.v1.EchoRequest" });
    await sink.stop();
  });

  it.skipIf(kind.skip)("prunes sent rows older than the retention and keeps unsent ones", async () => {
    const topic = testTopic();
    await t.store.transaction((tx) => outbox().publish(tx, topic, { text: "p" }));
    const relay = createOutboxRelay({ store: t.store, broker: fb.broker, logger: quietLogger, listen: false, retentionMs: 0 });
    while ((await relay.publishBatch()) > 0);
    fb.down = true;
    await t.store.transaction((tx) => outbox().publish(tx, topic, { text: "unsent" }));
    await relay.publishBatch();
    fb.down = false;
    expect(await relay.prune()).toBeGreaterThan(0);
    const left = await t.store.query<{ sent: boolean }>(`SELECT sent_at IS NOT NULL AS sent FROM ${t.store.schema}.ferry_outbox`);
    expect(left).toEqual([{ sent: false }]);
  });
});

describe("createOutboxRelay()", () => {
  it("rejects bad options with INVALID_ARGUMENT", async () => {
    const broker = await createBroker("memory:relay-options");
    const store = { schema: "public" } as never;
    expect(() => createOutboxRelay({ store, broker, batchSize: 0 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    expect(() => createOutboxRelay({ store, broker, pollIntervalMs: -1 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    expect(() => createOutboxRelay({ store, broker, retentionMs: Number.NaN })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    expect(() => createOutboxRelay({ store, broker: {} as never })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    await broker.close();
  });
});
