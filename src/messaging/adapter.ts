/**
 * The contract between Ferry's broker-neutral messaging core and one broker
 * adapter (`memory`, `nats`, `amqp`, `redis`). Adapters provide these few
 * primitives and nothing more; decoding, handler invocation, ack-on-return,
 * nack-with-backoff, dead-lettering, per-key ordering, concurrency, header
 * filtering and graceful stop are written once in `subscription-runner.ts`.
 *
 * See README-adapters.md for the rules every adapter follows.
 * @packageDocumentation
 */

/** A message as the core hands it to an adapter for storage. */
export interface OutgoingRecord {
  /** Concrete topic name (never a wildcard). */
  readonly topic: string;
  /** Encoded protobuf payload (or, for re-drive and dead-letter, the original bytes as received). */
  readonly payload: Uint8Array;
  /**
   * Every header, Ferry's own (`ferry-*`) included: the adapter stores them
   * verbatim and returns them verbatim on delivery.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The Ferry message id (also in the `ferry-message-id` header). */
  readonly messageId: string;
  /**
   * Key for broker-side de-duplication (NATS `Nats-Msg-Id`), or `undefined`
   * to store unconditionally. Adapters without de-duplication ignore it.
   */
  readonly dedupId: string | undefined;
  /** Ordering key, or `undefined`. Adapters may use it for partitioning; order per key is enforced by the core. */
  readonly orderingKey: string | undefined;
}

/** What a broker returns once it has stored a message. */
export interface PublishReceipt {
  /** The broker's position of the message (NATS stream sequence, Redis entry id, …) as text; `""` when the broker has none. */
  readonly sequence: string;
  /** True when the broker recognised `dedupId` and did not store the message again. */
  readonly duplicate: boolean;
}

/** Where a new consumer group starts reading. Existing groups resume where they left off. */
export type StartPosition =
  | { readonly kind: "new" }
  | { readonly kind: "beginning" }
  | { readonly kind: "sequence"; readonly sequence: string }
  | { readonly kind: "time"; readonly timeMs: number };

/** What the core asks an adapter to consume. */
export interface ConsumerSpec {
  /** Topic name or wildcard pattern (only when `capabilities.wildcards`). */
  readonly topic: string;
  /** Consumer group: members share (compete for) messages; each group gets every message. */
  readonly group: string;
  /** Where the group starts when it is created. */
  readonly startAt: StartPosition;
  /** Most messages the adapter may hold delivered-but-unsettled for this subscription at once. */
  readonly prefetch: number;
  /**
   * After this long without ack, nack or `extend()`, the broker redelivers a
   * message (NATS `ack_wait`, Redis claim idle time, AMQP consumer timeout).
   */
  readonly ackTimeoutMs: number;
  /** The core's `maxDeliveries`; adapters with a broker-side limit set it higher so the core decides. */
  readonly maxDeliveries: number;
}

/** One delivered message, as an adapter hands it to the core. */
export interface RawDelivery {
  /** Concrete topic the message was published to. */
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  /** Broker position as text (see {@link PublishReceipt.sequence}). */
  readonly sequence: string;
  /** 1 for the first delivery to this group, 2 for the first redelivery, … as counted by the broker. */
  readonly deliveryAttempt: number;
  /** Broker's store time in ms since the epoch, or `undefined` (the core then reads `ferry-publish-time`). */
  readonly publishTimeMs: number | undefined;
  /** Settles the message as handled. Must not throw for an already-settled message. */
  ack(): Promise<void>;
  /**
   * Returns the message for redelivery to the group after at least `delayMs`.
   * Adapters whose broker has no delayed redelivery declare
   * `capabilities.delayedNack = false`; the core then waits itself and calls
   * `nack(0)`.
   */
  nack(delayMs: number): Promise<void>;
  /** Resets the broker's ack timer (NATS `+WPI`); optional. */
  extend?(): Promise<void>;
}

/** Receives deliveries from an adapter's consumer. */
export interface DeliverySink {
  /** Called once per delivered message; the core settles it later. Never throws. */
  deliver(delivery: RawDelivery): void;
  /** Reports a consumer failure the adapter could not recover from (the core logs it). */
  error(err: unknown): void;
}

/** A running consumer. */
export interface AdapterConsumer {
  /**
   * Flow control: a delivery occupies one of `prefetch` slots from
   * `deliver()` until its `ack()` or `nack()` is called; the adapter fetches
   * only while a slot is free.
   *
   * Stops fetching: after this resolves, `deliver` is not called again.
   * Delivered-but-unsettled messages stay settleable until `close()`.
   */
  stop(): Promise<void>;
  /** Releases the consumer (called after the core settled or abandoned every delivery). */
  close(): Promise<void>;
  /**
   * How far the group is behind, as the broker reports it (for the
   * `ferry.messaging.consumer.*` gauges of docs/observability.md). Optional;
   * rejects when the broker cannot be asked (the gauge then skips a scrape).
   */
  backlog?(): Promise<ConsumerBacklog>;
}

/** A consumer group's backlog; `undefined` where the broker does not count it. */
export interface ConsumerBacklog {
  /** Messages stored for the group and not delivered yet: JetStream `num_pending`, RabbitMQ `messages_ready`, Redis `XINFO GROUPS` `lag`. */
  readonly pending: number | undefined;
  /** Messages delivered and not acked yet: JetStream `num_ack_pending`, Redis `XPENDING` count. */
  readonly unacked: number | undefined;
}

/**
 * Where adapters differ. The conformance suite reads these to skip, with the
 * documented reason, what a broker cannot do.
 */
export interface AdapterCapabilities {
  /** Broker-side de-duplication by `dedupId` within a window. */
  readonly deduplication: boolean;
  /** Wildcard topic patterns in {@link ConsumerSpec.topic}. */
  readonly wildcards: boolean;
  /** `nack(delayMs)` delays redelivery on the broker. */
  readonly delayedNack: boolean;
  /** `startAt` by sequence. */
  readonly replayBySequence: boolean;
  /** `startAt` by time. */
  readonly replayByTime: boolean;
  /** `startAt: "beginning"` for a new group sees messages published before any group existed. */
  readonly replayFromBeginning: boolean;
  /** Messages survive the client process (false only for `memory`). */
  readonly durable: boolean;
  /** Largest payload plus headers the broker accepts, in bytes. */
  readonly maxMessageBytes: number;
}

/** A connection to one broker. */
export interface BrokerAdapter {
  /** The scheme's name: `"memory"`, `"nats"`, `"amqp"`, `"redis"`. */
  readonly name: string;
  readonly capabilities: AdapterCapabilities;
  /**
   * Stores a message; resolves only once the broker confirmed it is stored
   * (NATS PubAck, AMQP publisher confirm, Redis XADD reply). Rejects with a
   * FerryError: UNAVAILABLE (retryable) when the broker cannot be reached,
   * RESOURCE_EXHAUSTED when the message is too large.
   */
  publish(record: OutgoingRecord): Promise<PublishReceipt>;
  /** Creates or joins the consumer group and starts delivering into `sink`. */
  consume(spec: ConsumerSpec, sink: DeliverySink): Promise<AdapterConsumer>;
  /** Closes the connection; pending publishes settle first. */
  close(): Promise<void>;
  /**
   * Lists the topics the broker holds, for tools (`ferry topics list`).
   * Optional: absent where the broker cannot enumerate them (AMQP 0-9-1 has
   * no command to list exchanges, queues or bindings). Rejects UNAVAILABLE
   * when the broker cannot be reached.
   */
  listTopics?(): Promise<TopicListing[]>;
  /**
   * Deletes consumer group `group` of topic (pattern) `topic` with its
   * position and unsettled messages (NATS durable consumer, AMQP queue,
   * Redis stream group); resolves also when it does not exist. Optional; for
   * tools' temporary groups (`ferry topics tail` without `--group`).
   */
  deleteGroup?(topic: string, group: string): Promise<void>;
}

/** One topic as {@link BrokerAdapter.listTopics} reports it. */
export interface TopicListing {
  /** The concrete topic name. */
  readonly topic: string;
  /** Messages the broker stores for it, or `undefined` where it does not count per topic. */
  readonly messages: number | undefined;
  /** Consumer groups reading it (directly or through a wildcard pattern), sorted. */
  readonly groups: readonly string[];
}

/** Options every adapter factory receives. */
export interface AdapterOptions {
  /** Logger for connection events. */
  readonly logger: import("../util/logger.js").Logger;
  /** Extra, adapter-specific options from {@link BrokerOptions.adapterOptions}. */
  readonly adapterOptions: Readonly<Record<string, unknown>>;
}

/** What an adapter module exports: `export const adapterFactory: AdapterFactory`. */
export type AdapterFactory = (url: URL, options: AdapterOptions) => Promise<BrokerAdapter>;
