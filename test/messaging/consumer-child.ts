/**
 * A consumer process for the crash-redelivery case: subscribes to a topic in
 * a group and reports each message it starts handling to its parent over IPC,
 * then never finishes (so nothing is acked) until the parent kills it.
 * Usage: node --import tsx consumer-child.ts '<json: { url, topic, group, ackTimeoutMs, concurrency, prefetch }>'
 */
import { createBroker, defineTopic } from "../../src/messaging/index.js";
import { EchoRequestSchema } from "../gen/ferry/test/v1/echo_pb.js";

const args = JSON.parse(process.argv[2] ?? "{}") as {
  url: string;
  topic: string;
  group: string;
  ackTimeoutMs: number;
  concurrency: number;
  prefetch: number;
};
const broker = await createBroker(args.url);
await broker.subscribe(
  defineTopic(args.topic, EchoRequestSchema),
  { group: args.group, ackTimeoutMs: args.ackTimeoutMs, concurrency: args.concurrency, prefetch: args.prefetch },
  async (message) => {
    process.send?.({ started: message.text });
    await new Promise(() => {}); // hangs: the parent kills this process before any ack
  },
);
process.send?.({ ready: true });
