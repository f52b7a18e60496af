import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { StartPosition } from "./adapter.js";
import { resolveBackoff, type BackoffOptions, type ResolvedBackoff } from "./backoff.js";

/** Where a new consumer group starts; see {@link SubscribeOptions.startAt}. */
export type StartAt = "new" | "beginning" | { sequence: string | number | bigint } | { time: Date | number };

/** Options of `Broker.subscribe`. */
export interface SubscribeOptions {
  /**
   * The consumer group. Subscriptions in the same group (in any process)
   * compete for messages: each message goes to one of them. Every group gets
   * every message. Required: letters, digits, `_` and `-`, at most 100 characters.
   */
  group: string;
  /** Deliveries of one message before it is dead-lettered, ≥ 1. Defaults to 5 (as Google Pub/Sub's dead-letter policy). */
  maxDeliveries?: number;
  /** Delay before redelivering a failed message; see {@link BackoffOptions}. */
  backoff?: BackoffOptions;
  /**
   * Handlers of this subscription running at once, ≥ 1. Defaults to 1.
   * Messages with the same ordering key never run concurrently, and run in
   * the order the broker delivered them; a failed keyed message is retried
   * in place, blocking its key, so the order survives failures.
   */
  concurrency?: number;
  /**
   * Messages the broker may hand to this subscription before it acks any
   * (delivered but unsettled), ≥ `concurrency`. Defaults to `max(10, concurrency)`.
   * Sets NATS pull batch size, AMQP `basic.qos` prefetch count, Redis XREADGROUP COUNT.
   */
  prefetch?: number;
  /**
   * Where a NEW consumer group starts reading: `"new"` (default: only messages
   * published from now on), `"beginning"` (everything the broker still
   * holds), `{ sequence }` (from that broker position, inclusive; see
   * `Delivery.sequence`) or `{ time }` (the first message stored at or after
   * that time). A group that already exists resumes where it left off and
   * ignores this option. Raises UNIMPLEMENTED when the broker cannot replay so.
   */
  startAt?: StartAt;
  /**
   * Handles only messages whose headers have all these values; others are
   * acked without calling the handler. Applied by Ferry on every broker.
   */
  filter?: { headers: Readonly<Record<string, string>> };
  /**
   * Time the broker waits for the ack before redelivering to another member
   * (NATS `ack_wait`, Redis claim idle time), in ms. Ferry extends it while a
   * handler runs, so only crashed consumers' messages are redelivered.
   * Defaults to 30000.
   */
  ackTimeoutMs?: number;
}

/** {@link SubscribeOptions} with defaults applied and checked. */
export interface ResolvedSubscribeOptions {
  readonly group: string;
  readonly maxDeliveries: number;
  readonly backoff: ResolvedBackoff;
  readonly concurrency: number;
  readonly prefetch: number;
  readonly startAt: StartPosition;
  readonly filter: Readonly<Record<string, string>> | undefined;
  readonly ackTimeoutMs: number;
}

const groupPattern = /^[A-Za-z0-9_-]{1,100}$/;

/** Applies defaults; raises INVALID_ARGUMENT naming the first bad option. */
export function resolveSubscribeOptions(options: SubscribeOptions): ResolvedSubscribeOptions {
  if (typeof options !== "object" || options === null) throw invalid("subscribe options are required (at least { group })");
  if (typeof options.group !== "string" || !groupPattern.test(options.group)) {
    throw invalid(`group "${String(options.group)}" is invalid: use 1–100 letters, digits, "_" and "-"`);
  }
  const maxDeliveries = positiveInt("maxDeliveries", options.maxDeliveries ?? 5);
  const concurrency = positiveInt("concurrency", options.concurrency ?? 1);
  const prefetch = positiveInt("prefetch", options.prefetch ?? Math.max(10, concurrency));
  if (prefetch < concurrency) throw invalid(`prefetch (${prefetch}) must be ≥ concurrency (${concurrency})`);
  const ackTimeoutMs = positiveInt("ackTimeoutMs", options.ackTimeoutMs ?? 30_000);
  if (ackTimeoutMs < 100) throw invalid("ackTimeoutMs must be ≥ 100");
  return {
    group: options.group,
    maxDeliveries,
    backoff: resolveBackoff(options.backoff),
    concurrency,
    prefetch,
    startAt: resolveStartAt(options.startAt ?? "new"),
    filter: options.filter?.headers,
    ackTimeoutMs,
  };
}

function resolveStartAt(startAt: StartAt): StartPosition {
  if (startAt === "new" || startAt === "beginning") return { kind: startAt };
  if (typeof startAt === "object" && startAt !== null) {
    if ("sequence" in startAt) {
      const sequence = String(startAt.sequence);
      if (sequence === "") throw invalid("startAt.sequence must not be empty");
      return { kind: "sequence", sequence };
    }
    if ("time" in startAt) {
      const timeMs = startAt.time instanceof Date ? startAt.time.getTime() : startAt.time;
      if (!Number.isFinite(timeMs)) throw invalid("startAt.time must be a valid Date or ms since the epoch");
      return { kind: "time", timeMs };
    }
  }
  throw invalid(`startAt must be "new", "beginning", { sequence } or { time }`);
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw invalid(`${name} must be an integer ≥ 1, got ${String(value)}`);
  return value;
}

function invalid(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, message);
}
