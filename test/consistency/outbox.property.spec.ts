/**
 * Property: whatever the interleaving of commits, rollbacks, relay batches
 * by two relays, relay crashes at each fault point (the transaction dies
 * with the process: modelled by throwing there), broker outages, single
 * failed publishes and
 * duplicate or crashed deliveries to an inbox consumer — once the broker is
 * back and the relays drain, every committed row was published at least
 * once, no rolled-back row ever was, rows of one key were first published
 * in commit order, and the consumer's effects happened exactly once.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultPoint, type FaultPointName } from "../../src/consistency/fault-hook.js";
import { createInbox } from "../../src/consistency/inbox.js";
import { createOutbox } from "../../src/consistency/outbox.js";
import { createOutboxRelay, type OutboxRelay } from "../../src/consistency/outbox-relay.js";
import type { BrokerAdapter, OutgoingRecord } from "../../src/messaging/adapter.js";
import { BrokerClient } from "../../src/messaging/broker.js";
import type { Delivery } from "../../src/messaging/delivery.js";
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { propertyParameters, propertyTimeoutMs } from "./property-runs.js";
import { testTopic } from "./test-brokers.js";
import { quietLogger, storeKinds, type TestStore } from "./test-stores.js";

type Command =
  | { kind: "commit"; key: number; rows: number }
  | { kind: "rollback"; key: number; rows: number }
  | { kind: "batch"; relay: number }
  | { kind: "crash"; relay: number; point: FaultPointName }
  | { kind: "outage"; down: boolean }
  | { kind: "failNext"; count: number }
  | { kind: "deliver"; duplicates: number; crashAfterEffect: boolean };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant("commit" as const), key: fc.integer({ min: 0, max: 2 }), rows: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("rollback" as const), key: fc.integer({ min: 0, max: 2 }), rows: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ kind: fc.constant("batch" as const), relay: fc.integer({ min: 0, max: 1 }) }),
  fc.record({
    kind: fc.constant("crash" as const),
    relay: fc.integer({ min: 0, max: 1 }),
    point: fc.constantFrom(FaultPoint.relayAfterClaim, FaultPoint.relayAfterFirstPublish, FaultPoint.relayBeforeMarkSent),
  }),
  fc.record({ kind: fc.constant("outage" as const), down: fc.boolean() }),
  fc.record({ kind: fc.constant("failNext" as const), count: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ kind: fc.constant("deliver" as const), duplicates: fc.integer({ min: 1, max: 3 }), crashAfterEffect: fc.boolean() }),
);

const kinds = await storeKinds();

describe("outbox, relay and inbox under random crashes, outages and duplicates (PGlite)", () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await kinds[0].open();
    await t.store.query(`CREATE TABLE ${t.store.schema}.effects (run integer, message_id text)`);
  });
  afterAll(async () => t?.dispose());

  it("delivers committed rows at least once, never rolled-back ones, in key order, with effects exactly once", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 14 }), async (commands) => {
        run++;
        await checkRun(t, run, commands);
      }),
      propertyParameters(),
    );
  }, propertyTimeoutMs());
});

async function checkRun(t: TestStore, run: number, commands: Command[]): Promise<void> {
  const topic = testTopic(`prop-${run}`);
  const outbox = createOutbox({ schema: t.store.schema });
  const inbox = createInbox({ group: `g${run}`, schema: t.store.schema });
  const published: OutgoingRecord[] = [];
  let down = false;
  let failNext = 0;
  const adapter: BrokerAdapter = {
    name: "fake",
    capabilities: { deduplication: false, wildcards: false, delayedNack: false, replayBySequence: false, replayByTime: false, replayFromBeginning: false, durable: true, maxMessageBytes: 1e6 },
    publish: async (record) => {
      if (down) throw new FerryError(Code.UNAVAILABLE, "outage");
      if (failNext > 0 && failNext--) throw new FerryError(Code.UNAVAILABLE, "one publish failed");
      published.push(record);
      return { sequence: String(published.length), duplicate: false };
    },
    consume: () => Promise.reject(new Error("unused")),
    close: async () => {},
  };
  const broker = new BrokerClient(adapter, quietLogger);
  let crashAt: FaultPointName | undefined;
  const faultHook = (p: FaultPointName): void => {
    if (p === crashAt) throw new Error(`crash at ${p}`);
  };
  const relays: OutboxRelay[] = [0, 1].map(() =>
    createOutboxRelay({ store: t.store, broker, listen: false, backoff: { initialMs: 0, maxMs: 0, jitter: 0 }, logger: quietLogger, faultHook }),
  );
  const committed: { id: string; key: number }[] = [];
  const rolledBack = new Set<string>();
  let delivered = 0;
  const handle = inbox.handler(t.store, async (tx, _m, d) => {
    await tx.query(`INSERT INTO ${t.store.schema}.effects VALUES ($1, $2)`, [run, d.messageId]);
  });
  const deliver = async (duplicates: number, crashAfterEffect: boolean): Promise<void> => {
    for (; delivered < published.length; delivered++) {
      const d = delivery(published[delivered]);
      for (let i = 0; i < duplicates; i++) await handle({} as never, d);
      if (crashAfterEffect) await handle({} as never, d); // the ack was lost: redelivered
    }
  };
  for (const c of commands) {
    if (c.kind === "commit" || c.kind === "rollback") {
      const ids: string[] = [];
      await t.store
        .transaction(async (tx) => {
          for (let i = 0; i < c.rows; i++) ids.push(await outbox.publish(tx, topic, { text: `${c.key}` }, { orderingKey: `k${c.key}` }));
          if (c.kind === "rollback") throw new Error("rollback");
        })
        .catch(() => undefined);
      for (const id of ids) {
        if (c.kind === "commit") committed.push({ id, key: c.key });
        else rolledBack.add(id);
      }
    } else if (c.kind === "batch") await relays[c.relay].publishBatch();
    else if (c.kind === "crash") {
      crashAt = c.point;
      await relays[c.relay].publishBatch().catch(() => undefined);
      crashAt = undefined;
    } else if (c.kind === "outage") down = c.down;
    else if (c.kind === "failNext") failNext = c.count;
    else await deliver(c.duplicates, c.crashAfterEffect);
  }
  down = false;
  failNext = 0;
  for (let i = 0; (await outbox.pendingCount(t.store)) > 0; i++) {
    if (i > 100) throw new Error("the relay does not drain the outbox");
    await relays[i % 2].publishBatch();
  }
  await deliver(2, false);

  const publishedIds = published.map((r) => r.messageId);
  for (const { id } of committed) expect(publishedIds).toContain(id);
  for (const id of publishedIds) expect(rolledBack.has(id)).toBe(false);
  for (const key of [0, 1, 2]) {
    const expectedOrder = committed.filter((c) => c.key === key).map((c) => c.id);
    const firstPublished = [...new Set(published.filter((r) => r.orderingKey === `k${key}`).map((r) => r.messageId))];
    expect(firstPublished).toEqual(expectedOrder);
  }
  const effects = await t.store.query<{ message_id: string }>(`SELECT message_id FROM ${t.store.schema}.effects WHERE run = $1`, [run]);
  expect(effects.map((e) => e.message_id).sort()).toEqual(committed.map((c) => c.id).sort());
}

function delivery(record: OutgoingRecord): Delivery {
  return {
    messageId: record.messageId,
    deliveryAttempt: 1,
    publishTime: new Date(),
    headers: record.headers,
    topic: record.topic,
    orderingKey: record.orderingKey,
    sequence: "",
    deadline: undefined,
    signal: new AbortController().signal,
  };
}
