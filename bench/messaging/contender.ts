/**
 * What every messaging benchmark contender provides. The load loops
 * (bench/messaging/load.ts) only see {@link MessagingSession}, so Ferry's
 * adapters and the raw client libraries are measured by the same code.
 */

/** Called with each consumed payload; the contender acks the message after it returns. */
export type OnMessage = (payload: Uint8Array) => void;

/** One contender's connection to its broker, on a topic (stream, exchange, queue, key) of its own. */
export interface MessagingSession {
  /** Publishes one payload; resolves once the broker confirmed storing it. */
  publish(payload: Uint8Array): Promise<void>;
  /**
   * Stops consuming, closes the connections and deletes every stream,
   * exchange, queue and key the session created.
   */
  close(): Promise<void>;
}

/** How a session is opened. */
export interface OpenOptions {
  /**
   * Consume in one consumer group with this handler (each message acked
   * after it returns). Without it the group is still created, so published
   * messages are stored for it (a RabbitMQ exchange without a bound queue
   * would drop them), but nothing consumes.
   */
  readonly onMessage?: OnMessage;
  /** A unique suffix for this session's names (lower-case letters and digits). */
  readonly suffix: string;
}

/** A contender: Ferry on one adapter, or the raw client library of that broker. */
export interface MessagingContender {
  /** `ferry-<adapter>` or `raw-<adapter>`. */
  readonly name: string;
  /** The adapter (broker) it runs on: memory, nats, amqp, redis. */
  readonly adapter: string;
  /** The raw contender it is compared with (itself for a raw one); undefined when the adapter has none. */
  readonly reference: string | undefined;
  /** What it is, for the docs' contender table. */
  readonly description: string;
  /** Connects, creates the topic's storage and the consumer group, and starts consuming when asked. */
  open(options: OpenOptions): Promise<MessagingSession>;
}
