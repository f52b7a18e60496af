import { createHash } from "node:crypto";
import type { ConsumerConfig, JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import type { ConsumerSpec } from "../adapter.js";
import { natsError } from "./nats-errors.js";

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
  /** Replicas of each stream (JetStream `num_replicas`, 1–5; needs a JetStream cluster of at least that many servers). Defaults to 1. */
  replicas: number;
}

/** The defaults of {@link NatsStreamDefaults}. */
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


/** The AckPolicy/DeliverPolicy enums of the dynamically loaded library. */
export interface NatsEnums {
  AckPolicy: { Explicit: string };
  DeliverPolicy: Record<string, string>;
}

/**
 * Creates the streams and durable consumers Ferry needs, once per adapter
 * (creation is idempotent on the server; a cache avoids asking again).
 */
export class NatsTopology {
  readonly #jsm: JetStreamManager;
  readonly #settings: NatsStreamDefaults;
  readonly #enums: NatsEnums;
  readonly #streams = new Map<string, Promise<void>>();

  constructor(jsm: JetStreamManager, settings: NatsStreamDefaults, enums: NatsEnums) {
    this.#jsm = jsm;
    this.#settings = settings;
    this.#enums = enums;
  }

  /** Makes sure the stream of `topic`'s root exists. */
  ensureStream(topic: string): Promise<void> {
    const name = natsStreamName(topic);
    let p = this.#streams.get(name);
    if (p === undefined) {
      p = this.#createStream(topic).catch((err: unknown) => {
        this.#streams.delete(name);
        throw err;
      });
      this.#streams.set(name, p);
    }
    return p;
  }

  /** Forgets that `topic`'s stream exists (it was deleted behind our back). */
  forget(topic: string): void {
    this.#streams.delete(natsStreamName(topic));
  }

  async #createStream(topic: string): Promise<void> {
    const config = natsStreamConfig(topic, this.#settings);
    try {
      await this.#jsm.streams.info(config.name);
      return;
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw natsError(err, `look up stream ${config.name}`);
    }
    try {
      await this.#jsm.streams.add(config);
    } catch (err) {
      if (/already in use/i.test((err as Error).message)) return;
      throw natsError(err, `create stream ${config.name}`);
    }
  }

  /**
   * Creates the durable consumer of `spec.group` on `spec.topic` if missing
   * (deliver policy from `spec.startAt`), else keeps it, updating `ack_wait`
   * if it changed. Returns its name.
   */
  async ensureConsumer(spec: ConsumerSpec): Promise<string> {
    const stream = natsStreamName(spec.topic);
    const durable = natsDurableName(spec.topic, spec.group);
    const ackWait = spec.ackTimeoutMs * nanosPerMs;
    try {
      const info = await this.#jsm.consumers.info(stream, durable);
      if (info.config.ack_wait !== ackWait) await this.#jsm.consumers.update(stream, durable, { ack_wait: ackWait });
      return durable;
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw natsError(err, `look up consumer ${durable}`);
    }
    const config: Partial<ConsumerConfig> = {
      durable_name: durable,
      ack_policy: this.#enums.AckPolicy.Explicit as ConsumerConfig["ack_policy"],
      filter_subject: spec.topic,
      ack_wait: ackWait,
      max_deliver: -1, // Ferry's core counts deliveries and dead-letters
      max_ack_pending: Math.max(1000, spec.prefetch * 4),
      ...this.#deliverPolicy(spec),
    };
    try {
      await this.#jsm.consumers.add(stream, config);
    } catch (err) {
      if (!/already in use|already exists/i.test((err as Error).message)) throw natsError(err, `create consumer ${durable}`);
    }
    return durable;
  }

  #deliverPolicy(spec: ConsumerSpec): Partial<ConsumerConfig> {
    const p = this.#enums.DeliverPolicy;
    const at = spec.startAt;
    switch (at.kind) {
      case "new":
        return { deliver_policy: p.New as ConsumerConfig["deliver_policy"] };
      case "beginning":
        return { deliver_policy: p.All as ConsumerConfig["deliver_policy"] };
      case "sequence":
        return { deliver_policy: p.StartSequence as ConsumerConfig["deliver_policy"], opt_start_seq: Number(at.sequence) };
      case "time":
        return { deliver_policy: p.StartTime as ConsumerConfig["deliver_policy"], opt_start_time: new Date(at.timeMs).toISOString() };
    }
  }
}
