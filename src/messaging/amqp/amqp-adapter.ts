import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Logger } from "../../util/logger.js";
import type {
  AdapterCapabilities,
  AdapterConsumer,
  AdapterFactory,
  BrokerAdapter,
  ConsumerSpec,
  DeliverySink,
  OutgoingRecord,
  PublishReceipt,
} from "../adapter.js";
import { importPeer } from "../adapter-registry.js";
import { FerryHeader } from "../headers.js";
import { redriveGroupName } from "../redrive.js";
import { AmqpConnection, type AmqpLib } from "./amqp-connection.js";
import { AmqpConsumer } from "./amqp-consumer.js";
import { parseAmqpOptions, type AmqpAdapterOptions } from "./amqp-options.js";
import { queueArguments, queueNameFor, resolveQueueType } from "./amqp-topology.js";

/**
 * The `amqp://` (and `amqps://`) adapter: RabbitMQ through amqplib.
 *
 * - Topics: one durable topic exchange per namespace (option `exchange`,
 *   default `"ferry"`); a message's routing key is its topic.
 * - Consumer groups: one durable queue per (group, topic), a quorum queue
 *   where the server supports it (RabbitMQ ≥ 3.8), bound with the topic as
 *   binding key (`*` as is, `>` as `#`).
 * - Publish: persistent messages on a confirm channel; resolves on the
 *   broker's ack (publisher confirms), rejects UNAVAILABLE on nack, on channel
 *   or connection loss and while reconnecting.
 * - Delivery attempts: quorum queues' `x-delivery-count`; classic queues
 *   count failures in a header (see `AmqpConsumer`).
 * - No broker-side delayed redelivery, de-duplication or replay (see
 *   {@link amqpCapabilities}).
 */
export class AmqpAdapter implements BrokerAdapter {
  readonly name = "amqp";
  readonly capabilities: AdapterCapabilities;
  readonly #conn: AmqpConnection;
  readonly #options: AmqpAdapterOptions;
  readonly #logger: Logger;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #consumers = new Set<AmqpConsumer>();
  #publisher: { model: ChannelModel; channel: Promise<ConfirmChannel> } | undefined;
  #retained = new WeakMap<ChannelModel, Set<string>>();
  #closed = false;

  constructor(conn: AmqpConnection, options: AmqpAdapterOptions, logger: Logger) {
    this.#conn = conn;
    this.#options = options;
    this.#logger = logger;
    this.capabilities = amqpCapabilities(options.maxMessageBytes);
  }

  /** The exchange this adapter publishes to. */
  get exchange(): string {
    return this.#options.exchange;
  }

  /** The queue type consumer groups get on this server (`quorum` or `classic`). */
  get queueType(): "quorum" | "classic" {
    return resolveQueueType(this.#options.queueType, this.#conn.serverVersion());
  }

  publish(record: OutgoingRecord): Promise<PublishReceipt> {
    if (this.#closed) return Promise.reject(new FerryError(Code.FAILED_PRECONDITION, "the AMQP adapter is closed"));
    const size = record.payload.byteLength + Object.entries(record.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (size > this.capabilities.maxMessageBytes) {
      return Promise.reject(new FerryError(Code.RESOURCE_EXHAUSTED, `message of ${size} bytes exceeds maxMessageBytes ${this.capabilities.maxMessageBytes}`));
    }
    const done = this.#publish(record);
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done)).catch(() => {});
    return done;
  }

  async consume(spec: ConsumerSpec, sink: DeliverySink): Promise<AdapterConsumer> {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "the AMQP adapter is closed");
    // "beginning" is "everything the broker holds for the group": for a new queue, nothing published before it was bound.
    if (spec.startAt.kind === "sequence" || spec.startAt.kind === "time") {
      throw new FerryError(Code.UNIMPLEMENTED, `RabbitMQ queues cannot replay messages (startAt by ${spec.startAt.kind}); a new group receives messages published after it subscribed`);
    }
    const consumer = new AmqpConsumer({
      connection: this.#conn,
      spec,
      sink,
      exchange: this.#options.exchange,
      queueType: this.queueType,
      logger: this.#logger,
      sendToQueue: (queue, msg, headers) => this.#sendToQueue(queue, msg, headers),
      onClosed: (c) => this.#consumers.delete(c),
    });
    await consumer.start();
    this.#consumers.add(consumer);
    return consumer;
  }

  /** Deletes the group's queue for `topic` (`queue.delete`, with any messages in it); a missing queue is not an error. */
  async deleteGroup(topic: string, group: string): Promise<void> {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "the AMQP adapter is closed");
    try {
      const channel = await this.#conn.require().createChannel();
      await channel.deleteQueue(queueNameFor(this.#options.exchange, group, topic));
      await channel.close();
    } catch (err) {
      if (err instanceof FerryError) throw err;
      throw new FerryError(Code.UNAVAILABLE, `cannot delete the queue of group "${group}" on "${topic}": ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    await Promise.allSettled([...this.#consumers].map((c) => c.close()));
    await this.#conn.close();
  }

  async #publish(record: OutgoingRecord): Promise<PublishReceipt> {
    const channel = await this.#channel();
    if (record.headers[FerryHeader.deadLetterTopic] !== undefined) await this.#retainDeadLetters(channel, record.topic);
    await new Promise<void>((resolve, reject) => {
      const { publishTimeoutMs } = this.#options;
      const fail = (why: string, err?: unknown): void => {
        clearTimeout(timer);
        reject(new FerryError(Code.UNAVAILABLE, `AMQP publish to "${record.topic}" not confirmed: ${why}`, { cause: err }));
      };
      const timer = setTimeout(() => fail(`no confirm within ${publishTimeoutMs} ms (it may still be stored)`), publishTimeoutMs);
      try {
        channel.publish(
          this.#options.exchange,
          record.topic,
          Buffer.from(record.payload.buffer, record.payload.byteOffset, record.payload.byteLength),
          { persistent: true, headers: { ...record.headers }, messageId: record.messageId, contentType: "application/x-protobuf" },
          (err: unknown) => (err ? fail((err as Error)?.message ?? "nack", err) : (clearTimeout(timer), resolve())),
        );
      } catch (err) {
        fail((err as Error).message, err);
      }
    });
    return { sequence: "", duplicate: false };
  }

  /** The confirm channel of the current connection (opened and the exchange declared on first use). */
  #channel(): Promise<ConfirmChannel> {
    const model = this.#conn.require();
    if (this.#publisher?.model !== model) {
      const channel = this.#openPublisher(model);
      this.#publisher = { model, channel };
      channel.catch(() => {
        if (this.#publisher?.channel === channel) this.#publisher = undefined;
      });
    }
    return this.#publisher!.channel;
  }

  async #openPublisher(model: ChannelModel): Promise<ConfirmChannel> {
    try {
      const channel = await model.createConfirmChannel();
      channel.on("error", (err: Error) => this.#logger.warn({ err }, "AMQP publish channel error"));
      channel.on("close", () => {
        if (this.#publisher?.model === model) this.#publisher = undefined;
      });
      await channel.assertExchange(this.#options.exchange, "topic", { durable: true });
      return channel;
    } catch (err) {
      throw new FerryError(Code.UNAVAILABLE, `cannot open the AMQP publish channel: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Dead letters are kept even when nobody subscribed to the dead-letter
   * topic yet: before the first one is published, the re-drive group's queue
   * is declared and bound, so `broker.redrive(topic)` finds them later.
   */
  async #retainDeadLetters(channel: ConfirmChannel, topic: string): Promise<void> {
    const model = this.#conn.require();
    let done = this.#retained.get(model);
    if (done === undefined) this.#retained.set(model, (done = new Set()));
    if (done.has(topic)) return;
    const queue = queueNameFor(this.#options.exchange, redriveGroupName(undefined), topic);
    await channel.assertQueue(queue, { durable: true, arguments: queueArguments(this.queueType, this.#conn.serverVersion()) });
    await channel.bindQueue(queue, this.#options.exchange, topic);
    done.add(topic);
  }

  async #sendToQueue(queue: string, msg: ConsumeMessage, headers: Record<string, unknown>): Promise<void> {
    const channel = await this.#channel();
    await new Promise<void>((resolve, reject) => {
      channel.sendToQueue(queue, msg.content, { ...msg.properties, headers, persistent: true }, (err: unknown) =>
        err ? reject(err as Error) : resolve(),
      );
    });
  }
}

/**
 * What RabbitMQ can and cannot do for Ferry, and why:
 * - `deduplication: false`: RabbitMQ has no broker-side de-duplication (only a plugin).
 * - `wildcards: true`: topic exchange binding keys.
 * - `delayedNack: false`: no delayed redelivery without the delayed-message
 *   plugin; TTL + dead-letter retry queues expire only at the queue head (a
 *   long delay blocks shorter ones) and reset `x-delivery-count`, so the core
 *   keeps the failed message for the backoff delay and then requeues it.
 * - `replayBySequence/ByTime/FromBeginning: false`: a queue deletes what was
 *   acked, and a new group's queue only receives messages published after it
 *   was bound (`startAt: "beginning"` is accepted and means just that;
 *   by sequence or time raises UNIMPLEMENTED). RabbitMQ streams can replay but, over AMQP 0-9-1, have neither
 *   competing consumers nor server-side offsets for a group.
 * - `maxMessageBytes`: RabbitMQ's default `max_message_size` (128 MiB).
 */
export function amqpCapabilities(maxMessageBytes: number): AdapterCapabilities {
  return {
    deduplication: false,
    wildcards: true,
    delayedNack: false,
    replayBySequence: false,
    replayByTime: false,
    replayFromBeginning: false,
    durable: true,
    maxMessageBytes,
  };
}

/**
 * Creates the RabbitMQ adapter for `amqp://user:pass@host:port/vhost`
 * (options in {@link AmqpAdapterOptions}, from `adapterOptions` or the URL's
 * query). Loads `amqplib` on first use; raises FAILED_PRECONDITION when it is
 * not installed, UNAVAILABLE when the broker cannot be reached,
 * INVALID_ARGUMENT for a bad option.
 */
export const adapterFactory: AdapterFactory = async (url, { logger, adapterOptions }) => {
  const { options, connectUrl } = parseAmqpOptions(url, adapterOptions);
  const amqp = await importPeer<AmqpLib>("amqplib", () => import("amqplib"));
  const conn = new AmqpConnection({ url: connectUrl, tls: options.tls, amqp, logger });
  await conn.start();
  return new AmqpAdapter(conn, options, logger);
};
