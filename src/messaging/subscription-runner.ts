import type { Message } from "@bufbuild/protobuf";
import { decodeBinary } from "../contract/codec.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Logger } from "../util/logger.js";
import type { AdapterConsumer, BrokerAdapter, RawDelivery } from "./adapter.js";
import { backoffDelayMs } from "./backoff.js";
import type { Delivery, MessageHandler } from "./delivery.js";
import { FerryHeader } from "./headers.js";
import { recordDeliveryError, recordDeliveryOutcome, traceDelivery } from "../observability/messaging-telemetry.js";
import { observeConsumerBacklog } from "../observability/consumer-backlog-telemetry.js";
import type { ResolvedSubscribeOptions } from "./subscribe-options.js";
import { deadLetterTopicFor, type Topic } from "./topic.js";
import { KeyedQueue } from "./keyed-queue.js";

/** Options of {@link Subscription.stop}. */
export interface StopOptions {
  /**
   * How long to wait for running handlers, in ms. Defaults to 30000. When it
   * expires, their `delivery.signal` fires and `stop()` resolves without
   * acking them: the broker redelivers them (nothing is lost).
   */
  timeoutMs?: number;
}

/** A running subscription, returned by `Broker.subscribe`. */
export interface Subscription {
  /** The subscribed topic name (may be a wildcard). */
  readonly topic: string;
  /** The consumer group. */
  readonly group: string;
  /** Handlers running now. */
  readonly inFlight: number;
  /**
   * Graceful stop: no new handler starts; messages received but not started
   * go back to the broker at once (nack without delay) for the group's other
   * members; running handlers finish and are acked or nacked as usual.
   * Idempotent; resolves when done.
   */
  stop(options?: StopOptions): Promise<void>;
}

/** What a {@link SubscriptionRunner} needs. */
export interface SubscriptionRunnerInit {
  adapter: BrokerAdapter;
  topic: Topic;
  options: ResolvedSubscribeOptions;
  handler: MessageHandler;
  logger: Logger;
  onStopped(runner: SubscriptionRunner): void;
}

/**
 * Ferry's delivery semantics, written once for every adapter: decode, header
 * filter, handler with per-key ordering and a concurrency limit, ack on
 * return, nack with exponential backoff on throw, dead-letter after
 * `maxDeliveries` or on an undecodable payload (reason in headers), ack-timer
 * extension while a handler runs, graceful stop.
 */
export class SubscriptionRunner implements Subscription {
  readonly #init: SubscriptionRunnerInit;
  readonly #queue = new KeyedQueue<Attempt>();
  readonly #held = new Map<RawDelivery, NodeJS.Timeout>();
  /** Keyed messages waiting to be retried in place (their key stays blocked meanwhile). */
  readonly #retrying = new Map<Attempt, { timer: NodeJS.Timeout; stopExtending: () => void }>();
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #consumer: AdapterConsumer | undefined;
  #stopping: Promise<void> | undefined;
  #unobserve: () => void = () => {};

  constructor(init: SubscriptionRunnerInit) {
    this.#init = init;
  }

  get topic(): string {
    return this.#init.topic.name;
  }

  get group(): string {
    return this.#init.options.group;
  }

  get inFlight(): number {
    return this.#running.size;
  }

  /** Creates or joins the consumer group and starts delivering. */
  async start(): Promise<void> {
    const { options, topic, adapter } = this.#init;
    this.#consumer = await adapter.consume(
      {
        topic: topic.name,
        group: options.group,
        startAt: options.startAt,
        prefetch: options.prefetch,
        ackTimeoutMs: options.ackTimeoutMs,
        maxDeliveries: options.maxDeliveries,
      },
      {
        deliver: (d) => this.#accept(d),
        error: (err) => this.#init.logger.error({ err, topic: topic.name, group: options.group }, "consumer failed"),
      },
    );
    // Observability: the group's backlog as gauges, read from the broker on each metrics collection.
    const consumer = this.#consumer;
    if (consumer.backlog !== undefined) {
      this.#unobserve = observeConsumerBacklog({ system: adapter.name, destination: topic.name, group: options.group, read: () => consumer.backlog!() });
    }
  }

  stop(options: StopOptions = {}): Promise<void> {
    return (this.#stopping ??= this.#stop(options.timeoutMs ?? 30_000));
  }

  async #stop(timeoutMs: number): Promise<void> {
    this.#unobserve();
    await this.#consumer?.stop().catch((err: unknown) => this.#log(err, "consumer stop failed"));
    for (const a of this.#queue.drain()) void this.#settle(() => a.raw.nack(0));
    for (const [a, r] of this.#retrying) {
      clearTimeout(r.timer);
      r.stopExtending();
      void this.#settle(() => a.raw.nack(0));
    }
    this.#retrying.clear();
    for (const [d, timer] of this.#held) {
      clearTimeout(timer);
      void this.#settle(() => d.nack(0));
    }
    this.#held.clear();
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([Promise.allSettled([...this.#running]), expired]);
      clearTimeout(timer);
      if (this.#running.size > 0) this.#abort.abort(new FerryError(Code.CANCELLED, "subscription stopped"));
    }
    await this.#consumer?.close().catch((err: unknown) => this.#log(err, "consumer close failed"));
    this.#init.onStopped(this);
  }

  #accept(delivery: RawDelivery): void {
    if (this.#stopping !== undefined) {
      void this.#settle(() => delivery.nack(0));
      return;
    }
    this.#queue.push(delivery.headers[FerryHeader.orderingKey], { raw: delivery, attempt: delivery.deliveryAttempt });
    this.#pump();
  }

  #pump(): void {
    while (this.#stopping === undefined && this.#running.size < this.#init.options.concurrency) {
      const next = this.#queue.take();
      if (next === undefined) return;
      const run = this.#process(next.item, next.key).catch((err: unknown) => {
        this.#log(err, "message processing failed unexpectedly; the broker will redeliver it");
        return false;
      }).then((keepKey) => {
        this.#running.delete(run);
        if (!keepKey) this.#queue.release(next.key);
        this.#pump();
      });
      this.#running.add(run);
    }
  }

  /** Handles one attempt; resolves true when the message is kept for an in-place retry (its key stays blocked). */
  async #process(a: Attempt, key: string | undefined): Promise<boolean> {
    const { options, topic } = this.#init;
    const raw = a.raw;
    if (!this.#wanted(raw)) return this.#done(this.#settle(() => raw.ack()));
    let message;
    try {
      message = decodeBinary(topic.schema, raw.payload);
    } catch (err) {
      const reason = new FerryError(Code.DATA_LOSS, `undecodable payload: ${err instanceof FerryError ? err.rawMessage : (err as Error).message}`);
      return this.#done(this.#deadLetter(a, reason));
    }
    // Observability: one CONSUMER span per attempt (child of the producer's trace context in the
    // headers) around the handler and its ack/nack/dead-letter (src/observability/messaging-telemetry.ts).
    const info = { system: this.#init.adapter.name, destination: raw.topic, group: options.group, messageId: raw.headers[FerryHeader.messageId] ?? "", attempt: a.attempt, headers: raw.headers, bodyBytes: raw.payload.byteLength };
    return traceDelivery(info, () => this.#handle(a, key, message));
  }

  /** Runs the handler for one decoded attempt, then acks, nacks or dead-letters it (see {@link #process}). */
  async #handle(a: Attempt, key: string | undefined, message: Message): Promise<boolean> {
    const { options } = this.#init;
    const raw = a.raw;
    const stopExtending = this.#extendWhileRunning(raw);
    try {
      const delivery = this.#delivery(a);
      await this.#init.handler(message, delivery);
    } catch (err) {
      stopExtending();
      recordDeliveryError(err);
      if (a.attempt >= options.maxDeliveries) return this.#done(this.#deadLetter(a, err));
      const delayMs = backoffDelayMs(options.backoff, a.attempt);
      this.#outcome("nack", delayMs);
      this.#init.logger.warn(
        { err, topic: raw.topic, group: options.group, messageId: raw.headers[FerryHeader.messageId], attempt: a.attempt, delayMs },
        "message handler failed; retrying after backoff",
      );
      if (key === undefined || this.#stopping !== undefined) return this.#done(this.#nackLater(raw, delayMs));
      this.#retryInPlace(a, key, delayMs);
      return true;
    }
    stopExtending();
    this.#outcome("ack");
    return this.#done(this.#settle(() => raw.ack()));
  }

  /** Counts the settlement and adds it to the active consumer span (see recordDeliveryOutcome). */
  #outcome(outcome: "ack" | "nack" | "dead_letter", delayMs?: number, deadLetterTopic?: string): void {
    recordDeliveryOutcome({ system: this.#init.adapter.name, destination: this.#init.topic.name, group: this.#init.options.group, outcome, delayMs, deadLetterTopic });
  }

  async #done(settling: Promise<void>): Promise<false> {
    await settling;
    return false;
  }

  /**
   * A keyed message that failed is retried here after the backoff instead of
   * going back to the broker, and its key stays blocked meanwhile: later
   * messages of the key wait, so per-key order holds across failures (the
   * contract of Google Pub/Sub ordering keys). The ack timer is extended
   * while it waits.
   */
  #retryInPlace(a: Attempt, key: string, delayMs: number): void {
    const stopExtending = this.#extendWhileRunning(a.raw);
    const timer = setTimeout(() => {
      this.#retrying.delete(a);
      stopExtending();
      this.#queue.pushFront(key, { raw: a.raw, attempt: a.attempt + 1 });
      this.#queue.release(key);
      this.#pump();
    }, delayMs);
    this.#retrying.set(a, { timer, stopExtending });
  }

  /** False for messages this subscription acks unseen: header filter mismatch, or re-driven for another group. */
  #wanted(raw: RawDelivery): boolean {
    const redriveGroup = raw.headers[FerryHeader.redriveGroup];
    if (redriveGroup !== undefined && redriveGroup !== this.#init.options.group) return false;
    const filter = this.#init.options.filter;
    if (filter === undefined) return true;
    return Object.entries(filter).every(([k, v]) => raw.headers[k] === v);
  }

  #delivery(a: Attempt): Delivery {
    const raw = a.raw;
    const h = raw.headers;
    const publishTimeMs = raw.publishTimeMs ?? (Number(h[FerryHeader.publishTime]) || Date.now());
    const remaining = h[FerryHeader.deadlineMs] === undefined ? undefined : Number(h[FerryHeader.deadlineMs]);
    const sentAt = Number(h[FerryHeader.publishTime]) || publishTimeMs;
    return {
      messageId: h[FerryHeader.messageId] ?? "",
      deliveryAttempt: a.attempt,
      publishTime: new Date(publishTimeMs),
      headers: h,
      topic: raw.topic,
      orderingKey: h[FerryHeader.orderingKey],
      sequence: raw.sequence,
      deadline: remaining === undefined || !Number.isFinite(remaining) ? undefined : sentAt + remaining,
      signal: this.#abort.signal,
    };
  }

  #extendWhileRunning(raw: RawDelivery): () => void {
    if (raw.extend === undefined) return () => {};
    const timer = setInterval(() => void raw.extend?.().catch(() => {}), Math.max(50, this.#init.options.ackTimeoutMs / 3));
    return () => clearInterval(timer);
  }

  #nackLater(raw: RawDelivery, delayMs: number): Promise<void> {
    if (this.#init.adapter.capabilities.delayedNack || delayMs === 0 || this.#stopping !== undefined) {
      return this.#settle(() => raw.nack(delayMs));
    }
    // The broker cannot delay a redelivery: keep the message (and its prefetch slot) until the delay passed.
    this.#held.set(raw, setTimeout(() => {
      this.#held.delete(raw);
      void this.#settle(() => raw.nack(0));
    }, delayMs));
    return Promise.resolve();
  }

  async #deadLetter(a: Attempt, err: unknown): Promise<void> {
    const { adapter, options, topic } = this.#init;
    const raw = a.raw;
    const error = err instanceof FerryError ? err : FerryError.from(err, Code.UNKNOWN);
    const reason = err instanceof Error && !(err instanceof FerryError) ? err.message : error.rawMessage;
    const messageId = raw.headers[FerryHeader.messageId] ?? "";
    const headers: Record<string, string> = {
      ...raw.headers,
      [FerryHeader.deadLetterReason]: asciiHeader(reason || error.message),
      [FerryHeader.deadLetterCode]: Code[error.code],
      [FerryHeader.deadLetterTopic]: raw.topic,
      [FerryHeader.deadLetterGroup]: options.group,
      [FerryHeader.deadLetterAttempts]: String(a.attempt),
      [FerryHeader.deadLetterTime]: String(Date.now()),
    };
    delete headers[FerryHeader.redriveGroup];
    try {
      await adapter.publish({
        topic: deadLetterTopicFor(topic, raw.topic),
        payload: raw.payload,
        headers,
        messageId,
        dedupId: `dl.${options.group}.${raw.topic}.${raw.sequence || messageId}`,
        orderingKey: raw.headers[FerryHeader.orderingKey],
      });
    } catch (publishErr) {
      this.#log(publishErr, "dead-letter publish failed; the message will be redelivered");
      return this.#nackLater(raw, backoffDelayMs(options.backoff, a.attempt));
    }
    this.#outcome("dead_letter", undefined, deadLetterTopicFor(topic, raw.topic));
    this.#init.logger.error(
      { err, topic: raw.topic, group: options.group, messageId, attempt: a.attempt, deadLetterTopic: deadLetterTopicFor(topic, raw.topic) },
      "message dead-lettered",
    );
    return this.#settle(() => raw.ack());
  }

  async #settle(op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      this.#log(err, "ack/nack failed; the broker will redeliver the message");
    }
  }

  #log(err: unknown, msg: string): void {
    this.#init.logger.warn({ err, topic: this.#init.topic.name, group: this.#init.options.group }, msg);
  }
}

/** One attempt at handling a delivery: the broker's count plus in-place retries. */
interface Attempt {
  readonly raw: RawDelivery;
  readonly attempt: number;
}

/** Header values must be printable ASCII: replaces other characters and bounds the length. */
function asciiHeader(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 1024);
}
