import { context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { BrokerClient, type Broker } from "../messaging/broker.js";
import { backoffDelayMs, resolveBackoff, type BackoffOptions, type ResolvedBackoff } from "../messaging/backoff.js";
import { FerryHeader } from "../messaging/headers.js";
import { tracePublish } from "../observability/messaging-telemetry.js";
import { Code, codeName } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { TypedEvents } from "../util/typed-events.js";
import { FaultPoint, type FaultHook } from "./fault-hook.js";
import { OutboxSql, type ClaimedRow } from "./outbox-sql.js";
import { outboxChannel, type SqlStore, type SqlTransaction } from "./sql-store.js";

/** Options of {@link createOutboxRelay}. */
export interface OutboxRelayOptions {
  /** The database the outbox rows are in. */
  store: SqlStore;
  /** The broker to publish to (from `createBroker`). */
  broker: Broker;
  /** Most rows claimed and published per transaction. Default 100. */
  batchSize?: number;
  /** Polling interval when no NOTIFY arrives (the fallback, and the pace of retries), in ms. Default 1000. */
  pollIntervalMs?: number;
  /** Wake up on the outbox trigger's `NOTIFY` (PostgreSQL LISTEN/NOTIFY). Default true. */
  listen?: boolean;
  /** Backoff between attempts of a row whose publish failed. Default: 1 s doubling to 60 s, ±20% jitter. */
  backoff?: BackoffOptions;
  /** How long sent rows are kept before pruning, in ms. Default 86 400 000 (one day). 0 prunes at the next prune. */
  retentionMs?: number;
  /** Interval between prunes, in ms. Default 60 000. */
  pruneIntervalMs?: number;
  /** Most rows deleted per prune statement. Default 10 000. */
  pruneBatchSize?: number;
  /** Logger. Default: Ferry's pino logger. */
  logger?: Logger;
  /** For crash-injection tests only: called at {@link FaultPoint}s. */
  faultHook?: FaultHook;
}

/** Events of an {@link OutboxRelay}. */
export interface OutboxRelayEventMap {
  /** A batch was published (count > 0) with `failed` rows left for a retry. */
  batch: { readonly published: number; readonly failed: number };
  /** A row's publish failed; it is retried after `retryInMs`. */
  publishFailed: { readonly messageId: string; readonly topic: string; readonly attempts: number; readonly retryInMs: number; readonly error: FerryError };
  /** Sent rows older than the retention were deleted. */
  pruned: { readonly count: number };
}

/**
 * Publishes committed outbox rows to a broker (the relay of the
 * transactional outbox pattern; Debezium's outbox event router does the same
 * from the write-ahead log). Run one per service process; several relays,
 * in one process or many, share the work through `FOR UPDATE SKIP LOCKED`.
 *
 * Guarantees: every committed row is published at least once (a row is marked
 * sent only after the broker confirmed it, in the same transaction that
 * claimed it; a crash before the commit releases the row to be published
 * again); rows of one ordering key are published in insertion order, one at
 * a time; the message id is the row id, so JetStream's de-duplication drops
 * a republish within its window. Rows of a rolled-back transaction do not exist.
 */
export interface OutboxRelay {
  /** Starts listening and polling. Resolves once listening. */
  start(): Promise<void>;
  /** Stops after the batch in flight (committing it), then stops listening. */
  stop(): Promise<void>;
  /** Claims and publishes one batch now; resolves with how many rows were published. */
  publishBatch(): Promise<number>;
  /** Deletes sent rows older than `retentionMs`; resolves with how many. */
  prune(): Promise<number>;
  readonly events: TypedEvents<OutboxRelayEventMap>;
}

/** Creates an {@link OutboxRelay}. Raises INVALID_ARGUMENT for out-of-range options. */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  return new Relay(options);
}


class Relay implements OutboxRelay {
  readonly events = new TypedEvents<OutboxRelayEventMap>();
  readonly #store: SqlStore;
  readonly #broker: BrokerClient;
  readonly #sql: OutboxSql;
  readonly #o: Required<Omit<OutboxRelayOptions, "store" | "broker" | "backoff" | "logger" | "faultHook">>;
  readonly #backoff: ResolvedBackoff;
  readonly #logger: Logger;
  readonly #fault: FaultHook | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #woken = false;
  #unlisten: (() => Promise<void>) | undefined;
  #lastPruneMs = 0;

  constructor(options: OutboxRelayOptions) {
    if (!(options.broker instanceof BrokerClient)) {
      throw new FerryError(Code.INVALID_ARGUMENT, "the outbox relay needs a broker made with createBroker");
    }
    this.#store = options.store;
    this.#broker = options.broker;
    this.#sql = new OutboxSql(options.store.schema);
    this.#o = {
      batchSize: positiveInt("batchSize", options.batchSize ?? 100),
      pollIntervalMs: positiveInt("pollIntervalMs", options.pollIntervalMs ?? 1000),
      listen: options.listen ?? true,
      retentionMs: nonNegative("retentionMs", options.retentionMs ?? 86_400_000),
      pruneIntervalMs: positiveInt("pruneIntervalMs", options.pruneIntervalMs ?? 60_000),
      pruneBatchSize: positiveInt("pruneBatchSize", options.pruneBatchSize ?? 10_000),
    };
    this.#backoff = resolveBackoff(options.backoff);
    this.#logger = options.logger ?? getDefaultLogger();
    this.#fault = options.faultHook;
  }

  async start(): Promise<void> {
    if (this.#running !== undefined) throw new FerryError(Code.FAILED_PRECONDITION, "the relay is already started");
    this.#stopping = false;
    if (this.#o.listen) this.#unlisten = await this.#store.listen(outboxChannel(this.#store.schema), () => this.#notify());
    this.#running = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#notify();
    await this.#running;
    this.#running = undefined;
    await this.#unlisten?.();
    this.#unlisten = undefined;
  }

  publishBatch(): Promise<number> {
    return this.#store.transaction((tx) => this.#publishBatch(tx));
  }

  async prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.#store.transaction((tx) => this.#sql.prune(tx, this.#o.retentionMs, this.#o.pruneBatchSize));
      total += n;
      if (n < this.#o.pruneBatchSize || this.#stopping) break;
    }
    if (total > 0) this.events.emit({ type: "pruned", count: total });
    return total;
  }

  #notify(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      this.#woken = false;
      let published = 0;
      try {
        published = await this.publishBatch();
        await this.#maybePrune();
      } catch (err) {
        this.#logger.warn({ err }, "outbox relay batch failed; retrying after the poll interval");
      }
      if (published >= this.#o.batchSize || this.#woken || this.#stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.pollIntervalMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #maybePrune(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastPruneMs < this.#o.pruneIntervalMs) return;
    this.#lastPruneMs = now;
    await this.prune();
  }

  async #publishBatch(tx: SqlTransaction): Promise<number> {
    const rows = await this.#sql.claim(tx, this.#o.batchSize);
    if (rows.length === 0) return 0;
    await this.#fault?.(FaultPoint.relayAfterClaim);
    const sent: string[] = [];
    const failed: { row: ClaimedRow; error: FerryError }[] = [];
    await Promise.all(
      chainsByKey(rows).map(async (chain) => {
        for (const row of chain) {
          try {
            await this.#publishRow(row);
          } catch (err) {
            failed.push({ row, error: FerryError.from(err, Code.UNAVAILABLE) });
            return; // later rows of the key wait for this one
          }
          sent.push(row.id);
          if (sent.length === 1) await this.#fault?.(FaultPoint.relayAfterFirstPublish);
        }
      }),
    );
    await this.#fault?.(FaultPoint.relayBeforeMarkSent);
    await this.#sql.markSent(tx, sent);
    for (const { row, error } of failed) await this.#recordFailure(tx, row, error);
    this.events.emit({ type: "batch", published: sent.length, failed: failed.length });
    return sent.length;
  }

  async #recordFailure(tx: SqlTransaction, row: ClaimedRow, error: FerryError): Promise<void> {
    const retryInMs = backoffDelayMs(this.#backoff, row.attempts + 1);
    await this.#sql.markFailed(tx, row.id, `${codeName(error.code)}: ${error.rawMessage}`, retryInMs);
    this.#logger.warn({ err: error, messageId: row.id, topic: row.topic, attempts: row.attempts + 1 }, "outbox publish failed; will retry");
    this.events.emit({ type: "publishFailed", messageId: row.id, topic: row.topic, attempts: row.attempts + 1, retryInMs, error });
  }

  /**
   * Publishes one row in a PRODUCER span `send <topic>` (the messaging room's,
   * OpenTelemetry messaging conventions, also counted in its metrics) whose
   * parent is the trace context stored with the row, so the trace of the
   * transaction that wrote the event continues through the relay to the consumers.
   */
  async #publishRow(row: ClaimedRow): Promise<void> {
    const parent = propagation.extract(ROOT_CONTEXT, row.headers);
    await context.with(parent, () =>
      tracePublish({ system: this.#broker.kind, destination: row.topic }, async () => {
        const headers: Record<string, string> = { ...row.headers };
        propagation.inject(context.active(), headers); // the send span's context
        headers[FerryHeader.messageId] = row.id;
        headers[FerryHeader.publishTime] = String(row.createdAtMs);
        headers[FerryHeader.type] = row.type;
        if (row.orderingKey !== null) headers[FerryHeader.orderingKey] = row.orderingKey;
        await this.#broker.adapter.publish({
          topic: row.topic,
          payload: row.payload,
          headers,
          messageId: row.id,
          dedupId: row.id,
          orderingKey: row.orderingKey ?? undefined,
        });
        return { messageId: row.id };
      }),
    );
  }
}

/** Groups rows into chains published one after the other: one chain per ordering key, one per row without a key. */
function chainsByKey(rows: readonly ClaimedRow[]): ClaimedRow[][] {
  const chains: ClaimedRow[][] = [];
  const byKey = new Map<string, ClaimedRow[]>();
  for (const row of rows) {
    if (row.orderingKey === null) {
      chains.push([row]);
      continue;
    }
    let chain = byKey.get(row.orderingKey);
    if (chain === undefined) {
      byKey.set(row.orderingKey, (chain = []));
      chains.push(chain);
    }
    chain.push(row);
  }
  return chains;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new FerryError(Code.INVALID_ARGUMENT, `${name} must be an integer ≥ 1, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new FerryError(Code.INVALID_ARGUMENT, `${name} must be a finite number ≥ 0, got ${value}`);
  return value;
}
