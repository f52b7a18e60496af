/**
 * Relay micro-benchmark (issue 14): events/s from committed outbox rows to
 * broker confirm, on PostgreSQL and PGlite, against publishing directly to
 * the same NATS JetStream with the same number in flight; and the
 * commit-to-publish latency with LISTEN/NOTIFY. Not a test: run it by hand,
 * once, on a quiet machine:
 *   npx tsx test/consistency/relay-bench.ts [rows=5000]
 */
import { performance } from "node:perf_hooks";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { createStore } from "../../src/consistency/create-store.js";
import { createOutbox } from "../../src/consistency/outbox.js";
import { createOutboxRelay } from "../../src/consistency/outbox-relay.js";
import type { SqlStore } from "../../src/consistency/sql-store.js";
import { BrokerClient, createBroker } from "../../src/messaging/broker.js";
import { natsStreamName } from "../../src/messaging/nats/nats-topology.js";
import { testTopic } from "./test-brokers.js";
import { natsUrl, postgresUrl, quietLogger, testSchema } from "./test-stores.js";

const rows = Number(process.argv[2] ?? 5000);
const root = `ferry-bench-${Date.now().toString(36)}`;
const topic = testTopic(root);

/** A NATS broker whose confirms are timed by message id. */
async function timedBroker(): Promise<{ broker: BrokerClient; confirmed: Map<string, number> }> {
  const inner = (await createBroker(natsUrl)) as BrokerClient;
  const confirmed = new Map<string, number>();
  const a = inner.adapter;
  const broker = new BrokerClient(
    { ...a, name: a.name, capabilities: a.capabilities, publish: async (r) => { const x = await a.publish(r); confirmed.set(r.messageId, performance.now()); return x; }, consume: (s, k) => a.consume(s, k), close: () => a.close() },
    quietLogger,
  );
  return { broker, confirmed };
}

async function direct(): Promise<number> {
  const broker = await createBroker(natsUrl);
  const start = performance.now();
  for (let i = 0; i < rows; i += 100) await Promise.all(Array.from({ length: Math.min(100, rows - i) }, (_, j) => broker.publish(topic, { text: `d${i + j}` })));
  const rate = rows / ((performance.now() - start) / 1000);
  await broker.close();
  return rate;
}

async function relayRate(store: SqlStore, keys: number): Promise<number> {
  const outbox = createOutbox({ schema: store.schema });
  for (let i = 0; i < rows; i += 500) {
    await store.transaction(async (tx) => {
      for (let j = i; j < Math.min(rows, i + 500); j++) await outbox.publish(tx, topic, { text: `r${j}` }, keys > 0 ? { orderingKey: `k${j % keys}` } : {});
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

async function latency(store: SqlStore): Promise<{ p50: number; p99: number }> {
  const outbox = createOutbox({ schema: store.schema });
  const { broker, confirmed } = await timedBroker();
  const relay = createOutboxRelay({ store, broker, pollIntervalMs: 1000, logger: quietLogger });
  await relay.start();
  const committedAt = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const id = await store.transaction((tx) => outbox.publish(tx, topic, { text: `l${i}` }));
    committedAt.set(id, performance.now());
    await new Promise((r) => setTimeout(r, 10));
  }
  while ((await outbox.pendingCount(store)) > 0) await new Promise((r) => setTimeout(r, 5));
  await relay.stop();
  await broker.close();
  const ms = [...committedAt].map(([id, t]) => (confirmed.get(id) ?? Number.NaN) - t).sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length / 2)], p99: ms[Math.floor(ms.length * 0.99)] };
}

const schema = testSchema();
const pg = await createStore(postgresUrl, { schema });
const lite = await createStore("pglite:", { schema: "ferry" });
try {
  const d = await direct();
  console.log(`direct publish, 100 in flight: ${d.toFixed(0)} msgs/s`);
  for (const [name, store] of [["postgres", pg], ["pglite", lite]] as const) {
    const r = await relayRate(store, 0);
    const rk = await relayRate(store, 10);
    const l = await latency(store);
    console.log(`${name}: relay ${r.toFixed(0)} events/s (${((r / d) * 100).toFixed(0)}% of direct), 10 ordering keys ${rk.toFixed(0)} events/s; commit-to-confirm p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`);
  }
} finally {
  await pg.query(`DROP SCHEMA ${schema} CASCADE`);
  await pg.close();
  await lite.close();
  const nc = await connect({ servers: "127.0.0.1:4222" });
  await (await jetstreamManager(nc)).streams.delete(natsStreamName(topic.name)).catch(() => false);
  await nc.close();
}
