/**
 * Message flow from spans (OpenTelemetry messaging conventions and Ferry's
 * delivery telemetry): per topic, publishes (PRODUCER spans); per topic and
 * consumer group, deliveries (CONSUMER spans), failed attempts, redeliveries
 * (`ferry.messaging.delivery_attempt` > 1), acks, nacks and dead letters
 * (the `ferry.message.ack|nack|dead_letter` span events), processing p99;
 * and the most recent dead letters with their reason.
 *
 * What spans cannot tell — pending messages and consumer lag — needs the
 * broker and is not shown here.
 */
import type { DashboardSpan } from "./dashboard-span.js";
import { SeriesTable } from "./series-table.js";
import type { ResolvedWindowOptions } from "./windowed-stats.js";

/** One consumer group of a topic over the window. */
export interface GroupFlow {
  readonly group: string;
  /** Services whose consumers are in the group (at most 8). */
  readonly services: readonly string[];
  /** Delivery attempts (CONSUMER spans) and their rate per second. */
  readonly deliveries: number;
  readonly ratePerSec: number;
  /** Attempts whose handler failed. */
  readonly failed: number;
  /** Attempts after the first one. */
  readonly redelivered: number;
  readonly acked: number;
  readonly nacked: number;
  readonly deadLettered: number;
  readonly p99Ms: number | null;
}

/** One topic over the window. */
export interface TopicFlow {
  readonly topic: string;
  /** `messaging.system` values seen (`memory`, `nats`, `rabbitmq`, `redis`). */
  readonly systems: readonly string[];
  readonly published: number;
  readonly publishRatePerSec: number;
  readonly publishErrors: number;
  readonly groups: readonly GroupFlow[];
}

/** A delivery the broker moved to the dead-letter topic. */
export interface DeadLetterRecord {
  /** Unix ms of the dead-letter event. */
  readonly atMs: number;
  readonly topic: string;
  readonly group: string;
  readonly service: string;
  readonly messageId: string | undefined;
  readonly attempt: number | undefined;
  /** The failed handler's status message or error type, if the span has one. */
  readonly reason: string;
  readonly deadLetterTopic: string | undefined;
  readonly traceId: string;
  readonly spanId: string;
}

interface GroupCounters {
  readonly topic: string;
  readonly group: string;
  readonly services: Set<string>;
  redelivered: number;
  acked: number;
  nacked: number;
  deadLettered: number;
}

/** Per-topic and per-group message flow, bounded by `maxSeries` and `maxDeadLetters`. */
export class MessagingStats {
  readonly #topics: SeriesTable<{ topic: string; systems: Set<string> }>;
  readonly #groups: SeriesTable<GroupCounters>;
  readonly #deadLetters: DeadLetterRecord[] = [];
  readonly #maxDeadLetters: number;

  /** @param limits `maxSeries` topics and groups kept each; `maxDeadLetters` recent dead letters kept (default 200). */
  constructor(limits: { maxSeries: number; maxDeadLetters?: number }, window: ResolvedWindowOptions) {
    this.#topics = new SeriesTable(limits.maxSeries, window);
    this.#groups = new SeriesTable(limits.maxSeries, window);
    this.#maxDeadLetters = Math.max(1, limits.maxDeadLetters ?? 200);
  }

  /** Counts a PRODUCER or CONSUMER span with a destination; ignores the rest. O(events). */
  record(span: DashboardSpan): void {
    const topic = span.attributes["messaging.destination.name"];
    if (topic === undefined || (span.kind !== "producer" && span.kind !== "consumer")) return;
    const name = String(topic);
    const at = span.startMs + span.durationMs;
    const failed = span.status === "error";
    if (span.kind === "producer") {
      this.#topics.record(name, () => ({ topic: name, systems: new Set() }), at, span.durationMs, span.code, failed);
      const system = span.attributes["messaging.system"];
      const systems = this.#topics.get(name)?.label.systems;
      if (system !== undefined && systems !== undefined && systems.size < 4) systems.add(String(system));
      return;
    }
    const group = String(span.attributes["messaging.consumer.group.name"] ?? "");
    const key = `${name}\u0000${group}`;
    this.#groups.record(key, () => ({ topic: name, group, services: new Set(), redelivered: 0, acked: 0, nacked: 0, deadLettered: 0 }), at, span.durationMs, span.code, failed);
    const counters = this.#groups.get(key)?.label;
    if (counters !== undefined) this.#count(counters, span);
  }

  /** Topics with traffic in the window (publishes or deliveries), busiest first, each with its groups. */
  topics(nowMs = Date.now()): TopicFlow[] {
    const byTopic = new Map<string, TopicFlow & { groups: GroupFlow[] }>();
    const topicOf = (topic: string): TopicFlow & { groups: GroupFlow[] } => {
      let flow = byTopic.get(topic);
      if (flow === undefined) {
        const row = this.#topics.get(topic);
        const s = row?.stats.summary(nowMs);
        flow = { topic, systems: [...(row?.label.systems ?? [])], published: s?.count ?? 0, publishRatePerSec: s?.ratePerSec ?? 0, publishErrors: s?.errors ?? 0, groups: [] };
        byTopic.set(topic, flow);
      }
      return flow;
    };
    for (const [topic, { stats }] of this.#topics.entries()) if (stats.summary(nowMs).count > 0) topicOf(topic);
    for (const [, { label, stats }] of this.#groups.entries()) {
      const s = stats.summary(nowMs);
      if (s.count === 0) continue;
      topicOf(label.topic).groups.push({
        group: label.group, services: [...label.services], deliveries: s.count, ratePerSec: s.ratePerSec, failed: s.errors,
        redelivered: label.redelivered, acked: label.acked, nacked: label.nacked, deadLettered: label.deadLettered, p99Ms: s.p99Ms,
      });
    }
    return [...byTopic.values()].sort((a, b) => b.published - a.published);
  }

  /** The most recent dead letters, newest first. */
  deadLetters(): DeadLetterRecord[] {
    return [...this.#deadLetters].reverse();
  }

  #count(counters: GroupCounters, span: DashboardSpan): void {
    if (counters.services.size < 8) counters.services.add(span.service);
    const attempt = span.attributes["ferry.messaging.delivery_attempt"];
    if (typeof attempt === "number" && attempt > 1) counters.redelivered++;
    for (const event of span.events) {
      if (event.name === "ferry.message.ack") counters.acked++;
      else if (event.name === "ferry.message.nack") counters.nacked++;
      else if (event.name === "ferry.message.dead_letter") {
        counters.deadLettered++;
        this.#addDeadLetter(span, counters, event.timeMs, event.attributes["ferry.messaging.dead_letter_topic"]);
      }
    }
  }

  #addDeadLetter(span: DashboardSpan, counters: GroupCounters, atMs: number, deadLetterTopic: unknown): void {
    if (this.#deadLetters.length >= this.#maxDeadLetters) this.#deadLetters.shift();
    const messageId = span.attributes["messaging.message.id"];
    const attempt = span.attributes["ferry.messaging.delivery_attempt"];
    this.#deadLetters.push({
      atMs,
      topic: counters.topic,
      group: counters.group,
      service: span.service,
      messageId: messageId === undefined ? undefined : String(messageId),
      attempt: typeof attempt === "number" ? attempt : undefined,
      reason: span.statusMessage ?? String(span.attributes["error.type"] ?? ""),
      deadLetterTopic: deadLetterTopic === undefined ? undefined : String(deadLetterTopic),
      traceId: span.traceId,
      spanId: span.spanId,
    });
  }
}
