import { randomUUID } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, type ConsumerMessages } from "@nats-io/jetstream";
import type { MessagingContender, MessagingSession, OpenOptions } from "./contender.js";
import { NATS_SERVERS } from "./broker-cleanup.js";

const nanosPerMs = 1_000_000;

/**
 * `@nats-io/jetstream` doing Ferry's work by hand: a stream with the same
 * limits as Ferry's (7 days, 1 M messages, 2 min duplicate window, 1
 * replica), `js.publish(subject, payload, { msgID })` awaited for its PubAck
 * (a `Nats-Msg-Id` as Ferry sends, for de-duplication), and a durable pull
 * consumer (explicit ack) read with `consumer.consume({ max_messages: 10 })`,
 * `m.ack()` after the handler.
 */
async function openRawNats(options: OpenOptions): Promise<MessagingSession> {
  const stream = `RAW_BENCH_${options.suffix}`;
  const subject = `rawbench${options.suffix}.msg`;
  const nc = await connect({ servers: NATS_SERVERS, name: "raw-bench" });
  const jsm = await jetstreamManager(nc);
  let messages: ConsumerMessages | undefined;
  let reading: Promise<void> = Promise.resolve();
  try {
    await jsm.streams.add({
      name: stream,
      subjects: [subject],
      max_age: 7 * 24 * 3600 * 1000 * nanosPerMs,
      max_msgs: 1_000_000,
      duplicate_window: 120_000 * nanosPerMs,
      num_replicas: 1,
    });
    await jsm.consumers.add(stream, { durable_name: "bench", ack_policy: AckPolicy.Explicit, filter_subject: subject, ack_wait: 30_000 * nanosPerMs, max_ack_pending: 1000 });
    const onMessage = options.onMessage;
    if (onMessage !== undefined) {
      const consumer = await jetstream(nc).consumers.get(stream, "bench");
      const iter = await consumer.consume({ max_messages: 10 });
      messages = iter;
      reading = (async () => {
        for await (const m of iter) {
          onMessage(m.data);
          m.ack();
        }
      })();
    }
  } catch (err) {
    await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
    throw err;
  }
  const js = jetstream(nc);
  return {
    publish: async (payload) => {
      await js.publish(subject, payload, { msgID: randomUUID(), timeout: 5000 });
    },
    close: async () => {
      try {
        messages?.stop();
        await reading.catch(() => {});
        await jsm.streams.delete(stream).catch(() => false);
      } finally {
        await nc.close();
      }
    },
  };
}

/** `raw-nats`: the reference of `ferry-nats`. */
export const rawNats: MessagingContender = {
  name: "raw-nats",
  adapter: "nats",
  reference: "raw-nats",
  description: "`@nats-io/jetstream`: `js.publish` with `msgID` awaited for the PubAck; durable pull consumer, `consume({ max_messages: 10 })`, `m.ack()`",
  open: openRawNats,
};
