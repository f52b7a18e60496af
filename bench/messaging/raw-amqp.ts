import { randomUUID } from "node:crypto";
import { connect } from "amqplib";
import type { MessagingContender, MessagingSession, OpenOptions } from "./contender.js";
import { AMQP_URL } from "./broker-cleanup.js";

/**
 * `amqplib` doing Ferry's work by hand: a durable topic exchange, a durable
 * quorum queue bound to the routing key (Ferry's default queue type), a
 * confirm channel publishing persistent messages with a message id, each
 * awaited for its publisher confirm (the callback), and a second channel
 * consuming with `prefetch(10)` and `ack` after the handler.
 */
async function openRawAmqp(options: OpenOptions): Promise<MessagingSession> {
  const exchange = `raw-bench-${options.suffix}`;
  const queue = `${exchange}.bench`;
  const routingKey = "rawbench.msg";
  const conn = await connect(AMQP_URL);
  const cleanup = async (): Promise<void> => {
    const ch = await conn.createChannel();
    await ch.deleteQueue(queue);
    await ch.deleteExchange(exchange);
    await ch.close();
  };
  try {
    const publisher = await conn.createConfirmChannel();
    await publisher.assertExchange(exchange, "topic", { durable: true });
    await publisher.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
    await publisher.bindQueue(queue, exchange, routingKey);
    const consumer = await conn.createChannel();
    const onMessage = options.onMessage;
    if (onMessage !== undefined) {
      await consumer.prefetch(10, false);
      await consumer.consume(queue, (msg) => {
        if (msg === null) return;
        onMessage(msg.content);
        consumer.ack(msg);
      }, { noAck: false });
    }
    return {
      publish: (payload) =>
        new Promise<void>((resolve, reject) => {
          publisher.publish(exchange, routingKey, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { persistent: true, messageId: randomUUID(), contentType: "application/octet-stream" }, (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
        }),
      close: async () => {
        try {
          await consumer.close().catch(() => {});
          await publisher.close().catch(() => {});
          await cleanup();
        } finally {
          await conn.close();
        }
      },
    };
  } catch (err) {
    await cleanup().catch(() => {});
    await conn.close().catch(() => {});
    throw err;
  }
}

/** `raw-amqp`: the reference of `ferry-amqp`. */
export const rawAmqp: MessagingContender = {
  name: "raw-amqp",
  adapter: "amqp",
  reference: "raw-amqp",
  description: "`amqplib`: confirm channel, persistent `publish` to a topic exchange awaited for its confirm; quorum queue, `prefetch(10)`, `ack`",
  open: openRawAmqp,
};
