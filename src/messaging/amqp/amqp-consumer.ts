import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Logger } from "../../util/logger.js";
import type { AdapterConsumer, ConsumerBacklog, ConsumerSpec, DeliverySink, RawDelivery } from "../adapter.js";
import { topicMatches } from "../topic.js";
import type { AmqpConnection } from "./amqp-connection.js";
import { classicAttemptHeader, classicTopicHeader, deliveryAttemptOf, ferryHeadersOf } from "./amqp-headers.js";
import { bindingKeyFor, queueArguments, queueNameFor } from "./amqp-topology.js";

/** What an {@link AmqpConsumer} needs. */
export interface AmqpConsumerInit {
  readonly connection: AmqpConnection;
  readonly spec: ConsumerSpec;
  readonly sink: DeliverySink;
  readonly exchange: string;
  readonly queueType: "quorum" | "classic";
  readonly logger: Logger;
  /** Republishes a message to a queue with publisher confirms (classic queues' counted nack). */
  readonly sendToQueue: (queue: string, msg: ConsumeMessage, headers: Record<string, unknown>) => Promise<void>;
  /** Called once by `close()`. */
  readonly onClosed: (consumer: AmqpConsumer) => void;
}

/**
 * A consumer group member on RabbitMQ: its own channel with `basic.qos`
 * prefetch = `spec.prefetch`, consuming (manual ack) from the group's
 * durable queue, which is bound to the topic exchange with the topic as
 * binding key. After the connection is re-established it reopens its channel,
 * redeclares the topology and consumes again; deliveries of the old channel
 * were returned to the queue by the broker, so settling them is a no-op.
 */
export class AmqpConsumer implements AdapterConsumer {
  readonly #init: AmqpConsumerInit;
  readonly #queue: string;
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  #stopped = false;
  #closed = false;
  #unlisten: () => void = () => {};
  #retry: NodeJS.Timeout | undefined;
  #attaching = false;

  constructor(init: AmqpConsumerInit) {
    this.#init = init;
    this.#queue = queueNameFor(init.exchange, init.spec.group, init.spec.topic);
  }

  /** Declares the exchange, the group's queue and its binding, and starts consuming. Raises UNAVAILABLE or FAILED_PRECONDITION. */
  async start(): Promise<void> {
    await this.#attach(this.#init.connection.require());
    this.#unlisten = this.#init.connection.onConnect((model) => void this.#reattach(model));
  }

  /** The group queue's ready count (RabbitMQ `messages_ready`, from `queue.declare` passive); unacked is not reported by AMQP. */
  async backlog(): Promise<ConsumerBacklog> {
    const channel = this.#channel;
    if (channel === undefined) return { pending: undefined, unacked: undefined };
    const { messageCount } = await channel.checkQueue(this.#queue);
    return { pending: messageCount, unacked: undefined };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unlisten();
    clearTimeout(this.#retry);
    const [channel, tag] = [this.#channel, this.#consumerTag];
    if (channel !== undefined && tag !== undefined) await channel.cancel(tag).catch(() => {});
  }

  async close(): Promise<void> {
    await this.stop();
    if (!this.#closed) this.#init.onClosed(this);
    this.#closed = true;
    const channel = this.#channel;
    this.#channel = undefined;
    await channel?.close().catch(() => {});
  }

  async #attach(model: ChannelModel): Promise<void> {
    const { spec, exchange, queueType, connection } = this.#init;
    let channel: Channel;
    try {
      channel = await model.createChannel();
    } catch (err) {
      throw new FerryError(Code.UNAVAILABLE, `cannot open an AMQP channel: ${(err as Error).message}`, { cause: err });
    }
    channel.on("error", (err: Error) => this.#init.logger.warn({ err, queue: this.#queue }, "AMQP consumer channel error"));
    channel.on("close", () => this.#channelClosed(channel));
    try {
      await channel.prefetch(spec.prefetch, false);
      await channel.assertExchange(exchange, "topic", { durable: true });
      await channel.assertQueue(this.#queue, { durable: true, arguments: queueArguments(queueType, connection.serverVersion()) });
      await channel.bindQueue(this.#queue, exchange, bindingKeyFor(spec.topic));
      this.#channel = channel;
      const { consumerTag } = await channel.consume(this.#queue, (msg) => this.#onMessage(channel, msg), { noAck: false });
      this.#consumerTag = consumerTag;
      if (this.#stopped) await channel.cancel(consumerTag); // stop() ran while this attach was under way
    } catch (err) {
      this.#channel = undefined;
      await channel.close().catch(() => {});
      const code = (err as { code?: number }).code === 406 ? Code.FAILED_PRECONDITION : Code.UNAVAILABLE;
      throw new FerryError(code, `cannot consume from AMQP queue "${this.#queue}": ${(err as Error).message}`, { cause: err });
    }
  }

  /** Attaches on `model` unless stopped, already attached on a live channel, or attaching (reconnect and retry timers may race). */
  async #reattach(model: ChannelModel): Promise<void> {
    if (this.#stopped || this.#init.connection.current() !== model) return;
    if (this.#channel !== undefined || this.#attaching) return;
    this.#attaching = true;
    try {
      await this.#attach(model);
    } catch (err) {
      this.#init.logger.warn({ err, queue: this.#queue }, "AMQP consumer could not resume; retrying");
      this.#retryAttach(500);
    } finally {
      this.#attaching = false;
    }
  }

  /** Attaches again after `delayMs` if the connection is up (else the next reconnect does it). */
  #retryAttach(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      const current = this.#init.connection.current();
      if (current !== undefined) void this.#reattach(current);
    }, delayMs);
  }

  #channelClosed(channel: Channel): void {
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    this.#consumerTag = undefined;
    // A channel closed on its own while the connection lives (e.g. a channel error): reopen it.
    const model = this.#init.connection.current();
    if (!this.#stopped && !this.#closed && model !== undefined) void this.#reattach(model);
  }

  #onMessage(channel: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (queue deleted, leader moved): report it and consume again on a new channel.
      this.#init.sink.error(new FerryError(Code.UNAVAILABLE, `AMQP queue "${this.#queue}" cancelled the consumer; redeclaring it`));
      this.#channel = undefined;
      this.#consumerTag = undefined;
      void channel.close().catch(() => {});
      this.#retryAttach(100);
      return;
    }
    if (this.#stopped) {
      safe(() => channel.nack(msg, false, true));
      return;
    }
    const topic = this.#topicOf(msg);
    if (!topicMatches(this.#init.spec.topic, topic)) {
      // AMQP's `#` also matches zero tokens, Ferry's `>` does not.
      safe(() => channel.ack(msg));
      return;
    }
    this.#init.sink.deliver(this.#delivery(channel, msg, topic));
  }

  #delivery(channel: Channel, msg: ConsumeMessage, topic: string): RawDelivery {
    const table = msg.properties.headers as Record<string, unknown> | undefined;
    const attempt = deliveryAttemptOf(table, msg.fields.redelivered);
    let settled = false;
    const live = (): boolean => !settled && this.#channel === channel && !this.#closed;
    return {
      topic,
      payload: msg.content,
      headers: ferryHeadersOf(table),
      sequence: "",
      deliveryAttempt: attempt,
      publishTimeMs: undefined,
      ack: async () => {
        if (live()) safe(() => channel.ack(msg));
        settled = true;
      },
      nack: async () => {
        if (!live()) return;
        settled = true;
        if (this.#init.queueType === "quorum") {
          safe(() => channel.nack(msg, false, true));
          return;
        }
        await this.#countedNack(channel, msg, attempt);
      },
    };
  }

  /** The topic a message was published to (a classic queue's requeued copy carries it in a header). */
  #topicOf(msg: ConsumeMessage): string {
    const requeuedFrom = (msg.properties.headers as Record<string, unknown> | undefined)?.[classicTopicHeader];
    return typeof requeuedFrom === "string" ? requeuedFrom : msg.fields.routingKey;
  }

  /** Classic queues do not count deliveries: requeue a copy carrying the failure count, then ack the original. */
  async #countedNack(channel: Channel, msg: ConsumeMessage, attempt: number): Promise<void> {
    const headers = {
      ...(msg.properties.headers as Record<string, unknown>),
      [classicAttemptHeader]: String(attempt),
      [classicTopicHeader]: this.#topicOf(msg),
    };
    try {
      await this.#init.sendToQueue(this.#queue, msg, headers);
    } catch {
      safe(() => channel.nack(msg, false, true));
      return;
    }
    safe(() => channel.ack(msg));
  }
}

/** Runs a settle operation that may throw on a channel closed in the meantime (the broker then requeues the message). */
function safe(op: () => void): void {
  try {
    op();
  } catch {
    // channel closed: the broker returns the message to the queue
  }
}
