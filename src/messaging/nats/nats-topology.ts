import { createHash } from "node:crypto";
import type { StreamConfig } from "@nats-io/jetstream";

/**
 * How Ferry topics map onto JetStream (NATS "JetStream" docs: streams,
 * consumers): the subject is the topic name; one stream per topic root (the
 * first token, or the first two for `dead-letter.<root>…`) captures the root
 * and everything under it, so that wildcard subscriptions within a root work
 * and dead letters of one application do not share a stream with another's.
 */

/** Stream prefix of every Ferry stream. */
export const streamPrefix = "FERRY_";

/** The part of a topic name that selects its stream: `shop` for `shop.order.placed`, `dead-letter.shop` for its dead letters. */
export function streamRoot(topic: string): string {
  const tokens = topic.split(".");
  return tokens[0] === "dead-letter" && tokens.length > 1 ? `${tokens[0]}.${tokens[1]}` : tokens[0];
}

/** The stream name holding `topic` (stream names may not contain `.`, `*`, `>`). */
export function natsStreamName(topic: string): string {
  return streamPrefix + streamRoot(topic).replace(/\./g, "_");
}

/** The subjects of the stream for `topic`'s root. */
export function natsStreamSubjects(topic: string): string[] {
  const root = streamRoot(topic);
  return [root, `${root}.>`];
}

/** Stream settings Ferry creates streams with; see {@link NatsStreamDefaults}. */
export interface NatsStreamDefaults {
  /** Age after which the stream drops messages, in ms; 0 keeps them until `maxMessages`. Defaults to 7 days. */
  maxAgeMs: number;
  /** Messages kept per stream (oldest dropped). Defaults to 1000000. */
  maxMessages: number;
  /** De-duplication window of `Nats-Msg-Id`, in ms. Defaults to 120000 (JetStream's default). */
  duplicateWindowMs: number;
  /** Replicas (1 on a single server). Defaults to 1. */
  replicas: number;
}

export const defaultStreamSettings: NatsStreamDefaults = Object.freeze({
  maxAgeMs: 7 * 24 * 3600 * 1000,
  maxMessages: 1_000_000,
  duplicateWindowMs: 120_000,
  replicas: 1,
});

const nanosPerMs = 1_000_000;

/** The stream config for `topic`'s root. */
export function natsStreamConfig(topic: string, settings: NatsStreamDefaults): Partial<StreamConfig> & { name: string } {
  return {
    name: natsStreamName(topic),
    subjects: natsStreamSubjects(topic),
    max_age: settings.maxAgeMs * nanosPerMs,
    max_msgs: settings.maxMessages,
    duplicate_window: settings.duplicateWindowMs * nanosPerMs,
    num_replicas: settings.replicas,
  };
}

/**
 * The durable consumer name of a consumer group on a topic pattern. Durable
 * names may not contain `.`, `*`, `>`; the pattern is encoded so that
 * `orders.*`, `orders.>` and `orders_x` never collide (a hash of the
 * pattern ends the name).
 */
export function natsDurableName(pattern: string, group: string): string {
  const readable = pattern.replace(/\*/g, "STAR").replace(/>/g, "GT").replace(/\./g, "_").slice(0, 120);
  const hash = createHash("sha256").update(pattern).digest("hex").slice(0, 10);
  return `${group}__${readable}_${hash}`;
}

export { nanosPerMs };
