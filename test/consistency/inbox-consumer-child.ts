/**
 * A consumer process for the inbox crash test: handles `topic` in `group`
 * through the inbox (effect and message id in one transaction), then is
 * killed with SIGKILL after the commit and before the ack.
 * Usage: node --import tsx inbox-consumer-child.ts '<json: { url, schema, brokerUrl, topic, group }>'
 */
import { createStore } from "../../src/consistency/create-store.js";
import { createInbox } from "../../src/consistency/inbox.js";
import { createBroker } from "../../src/messaging/broker.js";
import { defineTopic } from "../../src/messaging/topic.js";
import { EchoRequestSchema } from "../gen/ferry/test/v1/echo_pb.js";
import { childArgs } from "./child-support.js";

const args = childArgs<{ url: string; schema: string; brokerUrl: string; topic: string; group: string }>();
const store = await createStore(args.url, { schema: args.schema, migrate: false });
const broker = await createBroker(args.brokerUrl);
const inbox = createInbox({ group: args.group, schema: args.schema });
await broker.subscribe(defineTopic(args.topic, EchoRequestSchema), { group: args.group, ackTimeoutMs: 1000, startAt: "beginning" }, async (m, d) => {
  await store.transaction((tx) => inbox.handle(tx, d, (t) => t.query(`INSERT INTO ${args.schema}.effects VALUES ($1)`, [m.text])));
  process.kill(process.pid, "SIGKILL"); // after the effect committed, before the ack
});
process.send?.({ ready: true });
