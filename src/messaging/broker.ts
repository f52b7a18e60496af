import { randomUUID } from "node:crypto";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { encodeBinary, toMessage } from "../contract/codec.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import type { AdapterCapabilities, BrokerAdapter, PublishReceipt } from "./adapter.js";
import { adapterFactoryFor } from "./adapter-registry.js";
import type { MessageHandler } from "./delivery.js";
import { checkUserHeaders, FerryHeader, injectContextHeaders } from "./headers.js";
import { tracePublish } from "../observability/messaging-telemetry.js";
import { redrive, type RedriveOptions, type RedriveResult } from "./redrive.js";
import { resolveSubscribeOptions, type SubscribeOptions } from "./subscribe-options.js";
import { SubscriptionRunner, type Subscription } from "./subscription-runner.js";
import { checkTopicName, type Topic } from "./topic.js";

/** Options of {@link Broker.publish}. */
export interface PublishOptions {
  /**
   * Messages with the same ordering key are handled in publish order by a
   * consumer group with one subscription (and never concurrently within a
   * subscription). At most 256 characters.
   */
  orderingKey?: string;
  /** Custom headers: lower-case keys, printable ASCII values; `ferry-` is reserved. */
  headers?: Readonly<Record<string, string>>;
  /**
   * The message id, at most 256 characters. Defaults to a random UUID.
   * Brokers with de-duplication (NATS: `Nats-Msg-Id` within the stream's
   * duplicate window, default 2 minutes; memory: the same) store a message
   * only once per id, so republishing after a failed publish is safe.
   */
  messageId?: string;
}

/** What {@link Broker.publish} resolves with once the broker stored the message. */
export interface PublishResult {
  readonly messageId: string;
  /** The broker's position of the message; `""` where it has none. */
  readonly sequence: string;
  /** True when the broker had this message id already and did not store it again. */
  readonly duplicate: boolean;
}

/**
 * The broker-neutral messaging client: publish typed messages to topics,
 * subscribe handlers in consumer groups, re-drive dead letters. The same
 * semantics on every broker (at-least-once delivery; see docs/messaging.md).
 */
export interface Broker {
  /** The adapter's name: `"memory"`, `"nats"`, `"amqp"`, `"redis"`. */
  readonly kind: string;
  /** What this broker can do (replay, wildcards, de-duplication, size limit); see docs/messaging.md's capability table. */
  readonly capabilities: AdapterCapabilities;
  /**
   * Publishes `message` (a message or its init shape) to `topic`. Resolves
   * once the broker stored it (JetStream PubAck, AMQP publisher confirm,
   * Redis XADD reply). Raises INVALID_ARGUMENT for a wildcard topic or bad
   * options, RESOURCE_EXHAUSTED for a message larger than the broker accepts,
   * UNAVAILABLE (retryable) when the broker cannot be reached, FAILED_PRECONDITION after `close()`.
   */
  publish<Desc extends DescMessage>(
    topic: Topic<Desc>,
    message: MessageShape<Desc> | MessageInitShape<Desc>,
    options?: PublishOptions,
  ): Promise<PublishResult>;
  /**
   * Starts handling `topic`'s messages in consumer group `options.group`
   * (see {@link SubscribeOptions}). Resolves once the group exists on the
   * broker, so messages published afterwards reach it.
   */
  subscribe<Desc extends DescMessage>(
    topic: Topic<Desc>,
    options: SubscribeOptions,
    handler: MessageHandler<Desc>,
  ): Promise<Subscription>;
  /**
   * Moves the dead letters of `topic` back to the topics they came from, each
   * to be handled again only by the consumer group that gave up on it. See
   * {@link RedriveOptions}.
   */
  redrive(topic: Topic, options?: RedriveOptions): Promise<RedriveResult>;
  /** Stops every subscription gracefully (see `Subscription.stop`), then closes the connection. */
  close(): Promise<void>;
  /** `await using broker = await createBroker(…)`: the same as {@link Broker.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link createBroker}. */
export interface BrokerOptions {
  /** Logger; defaults to Ferry's pino logger. */
  logger?: Logger;
  /** Adapter-specific options; see each adapter's section in docs/messaging.md. */
  adapterOptions?: Readonly<Record<string, unknown>>;
}

/**
 * Connects to the broker at `url`: `memory:` (embedded, in-process),
 * `nats://host:4222`, `amqp://user:pass@host:5672`, `redis://host:6379`.
 * The adapter and its client library load only when used. Raises
 * INVALID_ARGUMENT for a bad URL or unknown scheme, FAILED_PRECONDITION when
 * the client library is not installed, UNAVAILABLE when the broker cannot be reached.
 */
export async function createBroker(url: string = "memory:", options: BrokerOptions = {}): Promise<Broker> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FerryError(Code.INVALID_ARGUMENT, `invalid broker URL "${url}": expected e.g. memory:, nats://127.0.0.1:4222`);
  }
  const logger = options.logger ?? getDefaultLogger();
  const factory = await adapterFactoryFor(parsed);
  const adapter = await factory(parsed, { logger, adapterOptions: options.adapterOptions ?? {} });
  return new BrokerClient(adapter, logger);
}

/**
 * {@link Broker} over any adapter; `createBroker` builds one from a URL.
 * @internal exported for adapter tests that build an adapter directly.
 */
export class BrokerClient implements Broker {
  readonly #adapter: BrokerAdapter;
  readonly #logger: Logger;
  readonly #subscriptions = new Set<SubscriptionRunner>();
  #closed = false;

  constructor(adapter: BrokerAdapter, logger: Logger) {
    this.#adapter = adapter;
    this.#logger = logger;
  }

  get kind(): string {
    return this.#adapter.name;
  }

  get capabilities(): AdapterCapabilities {
    return this.#adapter.capabilities;
  }

  /** The adapter, for tests and tools. @internal */
  get adapter(): BrokerAdapter {
    return this.#adapter;
  }

  async publish<Desc extends DescMessage>(
    topic: Topic<Desc>,
    message: MessageShape<Desc> | MessageInitShape<Desc>,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    // Observability: a PRODUCER span around the publish; its trace context goes into the headers.
    return tracePublish({ system: this.#adapter.name, destination: topic.name }, () => this.#publish(topic, message, options));
  }

  async #publish<Desc extends DescMessage>(topic: Topic<Desc>, message: MessageShape<Desc> | MessageInitShape<Desc>, options: PublishOptions): Promise<PublishResult> {
    this.#checkOpen();
    checkTopicName(topic.name, false);
    const payload = encodeBinary(topic.schema, toMessage(topic.schema, message));
    const messageId = options.messageId ?? randomUUID();
    checkId("messageId", messageId);
    if (options.orderingKey !== undefined) checkId("orderingKey", options.orderingKey);
    const headers: Record<string, string> = {};
    if (options.headers !== undefined) {
      checkUserHeaders(options.headers);
      Object.assign(headers, options.headers);
    }
    injectContextHeaders(headers);
    headers[FerryHeader.messageId] = messageId;
    headers[FerryHeader.publishTime] = String(Date.now());
    headers[FerryHeader.type] = topic.schema.typeName;
    if (options.orderingKey !== undefined) headers[FerryHeader.orderingKey] = options.orderingKey;
    const receipt: PublishReceipt = await this.#adapter.publish({
      topic: topic.name,
      payload,
      headers,
      messageId,
      dedupId: messageId,
      orderingKey: options.orderingKey,
    });
    return { messageId, sequence: receipt.sequence, duplicate: receipt.duplicate };
  }

  async subscribe<Desc extends DescMessage>(
    topic: Topic<Desc>,
    options: SubscribeOptions,
    handler: MessageHandler<Desc>,
  ): Promise<Subscription> {
    this.#checkOpen();
    if (typeof handler !== "function") throw new FerryError(Code.INVALID_ARGUMENT, "subscribe needs a handler function");
    const resolved = resolveSubscribeOptions(options);
    if (topic.wildcard && !this.#adapter.capabilities.wildcards) {
      throw new FerryError(Code.UNIMPLEMENTED, `the ${this.#adapter.name} broker does not support wildcard topics ("${topic.name}")`);
    }
    const runner = new SubscriptionRunner({
      adapter: this.#adapter,
      topic: topic as unknown as Topic,
      options: resolved,
      handler: handler as unknown as MessageHandler,
      logger: this.#logger,
      onStopped: (r) => this.#subscriptions.delete(r),
    });
    this.#subscriptions.add(runner);
    try {
      await runner.start();
    } catch (err) {
      this.#subscriptions.delete(runner);
      throw err;
    }
    return runner;
  }

  redrive(topic: Topic, options: RedriveOptions = {}): Promise<RedriveResult> {
    this.#checkOpen();
    return redrive(this.#adapter, topic, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
    await this.#adapter.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "the broker client is closed");
  }
}

function checkId(name: string, value: string): void {
  if (typeof value !== "string" || value.length === 0 || value.length > 256) {
    throw new FerryError(Code.INVALID_ARGUMENT, `${name} must be a string of 1–256 characters`);
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c > 0x7e) throw new FerryError(Code.INVALID_ARGUMENT, `${name} must be printable ASCII without spaces`);
  }
}
