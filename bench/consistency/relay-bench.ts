/**
 * Relay benchmark (issue 14): events/s from committed outbox rows to broker
 * confirm, on PostgreSQL and PGlite, against publishing directly to the same
 * NATS JetStream with 100 in flight; and the commit-to-confirm latency with
 * LISTEN/NOTIFY. Part of `npm run bench -- --suite=consistency`; alone:
 *   npm run bench:relay -- [rows=5000]
 */
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { createStore } from "../../src/consistency/create-store.js";
import { createOutbox } from "../../src/consistency/outbox.js";
import { createOutboxRelay } from "../../src/consistency/outbox-relay.js";
import type { SqlStore } from "../../src/consistency/sql-store.js";
import { BrokerClient, createBroker } from "../../src/messaging/broker.js";
import { natsStreamName } from "../../src/messaging/nats/nats-topology.js";
import { benchSchema, benchTopic, natsUrl, postgresUrl, quietLogger } from "./bench-env.js";

/** One store's relay figures. */
export interface RelayFigures {
  readonly store: "postgres" | "pglite";
  /** Events/s from the relay's start to the last confirm, no ordering key. */
  readonly eventsPerSecond: number;
  /** The same with 10 ordering keys. */
  readonly keyedEventsPerSecond: number;
  /** Commit to broker confirm, one event at a time every 10 ms, in ms. */
  readonly commitToConfirmP50Ms: number;
  readonly commitToConfirmP99Ms: number;
}

/** What {@link benchRelay} measured. */
export interface RelayResults {
  /** Direct publishing to NATS JetStream, 100 in flight, msgs/s. */
  readonly directPerSecond: number;
  readonly stores: RelayFigures[];
}

type Topic = ReturnType<typeof benchTopic>;

/** A NATS broker whose confirms are timed by message id. */
async function timedBroker(): Promise<{ broker: BrokerClient; confirmed: Map<string, number> }> {
  const inner = (await createBroker(natsUrl)) as BrokerClient;
  const confirmed = new Map<string, number>();
  const a = inner.adapter;
  const publish: typeof a.publish = async (r) => {
    const x = await a.publish(r);
    confirmed.set(r.messageId, performance.now());
    return x;
  };
  const broker = new BrokerClient({ ...a, name: a.name, capabilities: a.capabilities, publish, consume: (s, k) => a.consume(s, k), close: () => a.close() }, quietLogger);
  return { broker, confirmed };
}

async function direct(topic: Topic, rows: number): Promise<number> {
  const broker = await createBroker(natsUrl);
  // Warm-up (the stream's creation, the connection, the JIT), as the relay's runs after it get.
  await Promise.all(Array.from({ length: 200 }, (_, j) => broker.publish(topic, { value: `w${j}` })));
  const start = performance.now();
  for (let i = 0; i < rows; i += 100) await Promise.all(Array.from({ length: Math.min(100, rows - i) }, (_, j) => broker.publish(topic, { value: `d${i + j}` })));
  const rate = rows / ((performance.now() - start) / 1000);
  await broker.close();
  return rate;
}

async function relayRate(store: SqlStore, topic: Topic, rows: number, keys: number): Promise<number> {
  const outbox = createOutbox({ schema: store.schema });
  for (let i = 0; i < rows; i += 500) {
    await store.transaction(async (tx) => {
      for (let j = i; j < Math.min(rows, i + 500); j++) await outbox.publish(tx, topic, { value: `r${j}` }, keys > 0 ? { orderingKey: `k${j % keys}` } : {});
    });
  }
  const { broker, confirmed } = await timedBroker();
  const relay = createOutboxRelay({ store, broker, logger: quietLogger });
  const start = performance.now();
  await relay.start();
  while ((await outbox.pendingCount(store)) > 0) await new Promise((r) => setTimeout(r, 5));
  const rate = confirmed.size / ((Math.max(...confirmed.values()) - start) / 1000);
  await relay.stop();
  await broker.close();
  return rate;
}

async function latency(store: SqlStore, topic: Topic): Promise<{ p50: number; p99: number }> {
  const outbox = createOutbox({ schema: store.schema });
  const { broker, confirmed } = await timedBroker();
  const relay = createOutboxRelay({ store, broker, pollIntervalMs: 1000, logger: quietLogger });
  await relay.start();
  const committedAt = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const id = await store.transaction((tx) => outbox.publish(tx, topic, { value: `l${i}` }));
    committedAt.set(id, performance.now());
    await new Promise((r) => setTimeout(r, 10));
  }
  while ((await outbox.pendingCount(store)) > 0) await new Promise((r) => setTimeout(r, 5));
  await relay.stop();
  await broker.close();
  const ms = [...committedAt].map(([id, t]) => (confirmed.get(id) ?? Number.NaN) - t).sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length / 2)], p99: ms[Math.floor(ms.length * 0.99)] };
}

/** Runs the relay benchmark with `rows` events per measurement (PostgreSQL schema and NATS stream of its own, removed afterwards). */
export async function benchRelay(rows = 5000): Promise<RelayResults> {
  const topic = benchTopic();
  const schema = benchSchema();
  const pg = await createStore(postgresUrl, { schema });
  const lite = await createStore("pglite:", { schema: "ferry" });
  try {
    const directPerSecond = await direct(topic, rows);
    const stores: RelayFigures[] = [];
    for (const [name, store] of [["postgres", pg], ["pglite", lite]] as const) {
      const eventsPerSecond = await relayRate(store, topic, rows, 0);
      const keyedEventsPerSecond = await relayRate(store, topic, rows, 10);
      const l = await latency(store, topic);
      stores.push({ store: name, eventsPerSecond, keyedEventsPerSecond, commitToConfirmP50Ms: l.p50, commitToConfirmP99Ms: l.p99 });
    }
    return { directPerSecond, stores };
  } finally {
    await pg.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await pg.close();
    await lite.close();
    const nc = await connect({ servers: natsUrl.replace(/^nats:\/\//, "") });
    await (await jetstreamManager(nc)).streams.delete(natsStreamName(topic.name)).catch(() => false);
    await nc.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchRelay(Number(process.argv[2] ?? 5000));
  console.log(`direct publish, 100 in flight: ${r.directPerSecond.toFixed(0)} msgs/s`);
  for (const s of r.stores) {
    console.log(
      `${s.store}: relay ${s.eventsPerSecond.toFixed(0)} events/s (${((s.eventsPerSecond / r.directPerSecond) * 100).toFixed(0)}% of direct), ` +
        `10 ordering keys ${s.keyedEventsPerSecond.toFixed(0)} events/s; commit-to-confirm p50 ${s.commitToConfirmP50Ms.toFixed(1)} ms, p99 ${s.commitToConfirmP99Ms.toFixed(1)} ms`,
    );
  }
}
