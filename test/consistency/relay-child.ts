/**
 * A relay process for the outbox crash tests: publishes the outbox of
 * `schema` on PostgreSQL to NATS, and is killed with SIGKILL at `point`.
 * Usage: node --import tsx relay-child.ts '<json: { url, schema, brokerUrl, point, hit, batchSize }>'
 */
import { createStore } from "../../src/consistency/create-store.js";
import type { FaultPointName } from "../../src/consistency/fault-hook.js";
import { createOutboxRelay } from "../../src/consistency/outbox-relay.js";
import { createBroker } from "../../src/messaging/broker.js";
import { childArgs, killAt } from "./child-support.js";

const args = childArgs<{ url: string; schema: string; brokerUrl: string; point?: FaultPointName; hit?: number; batchSize: number }>();
const store = await createStore(args.url, { schema: args.schema, migrate: false });
const broker = await createBroker(args.brokerUrl);
const relay = createOutboxRelay({ store, broker, batchSize: args.batchSize, pollIntervalMs: 50, faultHook: killAt(args.point, args.hit) });
await relay.start();
process.send?.({ ready: true });
