import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { Delivery, MessageHandler } from "../messaging/delivery.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { checkIdentifier, qualified, type SqlExecutor, type SqlStore, type SqlTransaction } from "./sql-store.js";

/** Options of {@link createInbox}. */
export interface InboxOptions {
  /** The consumer group this inbox records handled messages for (the `group` of the subscription). 1–256 characters. */
  group: string;
  /** Schema of the `ferry_inbox` table (the store's `schema`). Default `"public"`. */
  schema?: string;
  /**
   * How long a handled message id is remembered, in ms: a redelivery later
   * than this is handled again. Keep it longer than the broker can redeliver
   * (its max deliveries × backoff, plus re-drives). Default 604 800 000 (7 days).
   */
  retentionMs?: number;
}

/** What {@link Inbox.handle} resolves with. */
export type InboxResult<T> = { readonly handled: true; readonly result: T } | { readonly handled: false };

/**
 * The idempotent consumer (inbox) pattern: the id of every handled message
 * is recorded per consumer group in the same transaction as the handler's
 * effects, and a message already recorded is skipped. On top of the
 * broker's at-least-once delivery this gives exactly-once effects — for the
 * effects written through that transaction (a call to another service made
 * from the handler is not covered: pass it an idempotency key).
 */
export interface Inbox {
  readonly group: string;
  /**
   * Runs `fn(tx)` unless `delivery.messageId` was already handled by this
   * group, recording it in `tx`. Concurrent deliveries of one id wait for
   * each other (the primary key's lock): one runs `fn`, the other skips once
   * the first commits, or runs it if the first rolls back.
   * @throws FerryError INVALID_ARGUMENT for a missing message id; whatever `fn` throws.
   */
  handle<T>(tx: SqlTransaction, delivery: Pick<Delivery, "messageId" | "topic">, fn: (tx: SqlTransaction) => Promise<T>): Promise<InboxResult<T>>;
  /**
   * A message handler for `broker.subscribe` that opens a transaction on
   * `store` for each delivery and runs `fn` through {@link handle}: the
   * message is acked after the commit, and redelivered if `fn` throws.
   */
  handler<Desc extends DescMessage>(
    store: SqlStore,
    fn: (tx: SqlTransaction, message: MessageShape<Desc>, delivery: Delivery) => Promise<void>,
  ): MessageHandler<Desc>;
  /** Whether `messageId` was handled by this group. */
  isHandled(db: SqlExecutor, messageId: string): Promise<boolean>;
  /** Forgets message ids handled more than `retentionMs` ago; resolves with how many. */
  prune(db: SqlExecutor): Promise<number>;
}

/** Creates an {@link Inbox}. Raises INVALID_ARGUMENT for a bad group, schema or retention. */
export function createInbox(options: InboxOptions): Inbox {
  const group = options?.group;
  if (typeof group !== "string" || group.length === 0 || group.length > 256) {
    throw new FerryError(Code.INVALID_ARGUMENT, "createInbox needs a consumer group name of 1–256 characters");
  }
  const table = qualified(checkIdentifier("schema", options.schema ?? "public"), "ferry_inbox");
  const retentionMs = options.retentionMs ?? 7 * 86_400_000;
  if (!Number.isFinite(retentionMs) || retentionMs < 0) throw new FerryError(Code.INVALID_ARGUMENT, `retentionMs must be ≥ 0, got ${retentionMs}`);
  const record = `INSERT INTO ${table} (consumer_group, message_id, topic) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1 AS inserted`;
  const inbox: Inbox = {
    group,
    async handle(tx, delivery, fn) {
      const messageId = delivery?.messageId;
      if (typeof messageId !== "string" || messageId.length === 0) throw new FerryError(Code.INVALID_ARGUMENT, "inbox.handle needs a delivery with a messageId");
      const inserted = await tx.query(record, [group, messageId, delivery.topic ?? ""]);
      if (inserted.length === 0) return { handled: false };
      return { handled: true, result: await fn(tx) };
    },
    handler(store, fn) {
      return async (message, delivery) => {
        await store.transaction((tx) => inbox.handle(tx, delivery, (t) => fn(t, message, delivery)));
      };
    },
    async isHandled(db, messageId) {
      const rows = await db.query(`SELECT 1 FROM ${table} WHERE consumer_group = $1 AND message_id = $2`, [group, messageId]);
      return rows.length > 0;
    },
    async prune(db) {
      const rows = await db.query(
        `DELETE FROM ${table} WHERE consumer_group = $1 AND handled_at < now() - $2::bigint * interval '1 millisecond' RETURNING 1`,
        [group, Math.round(retentionMs)],
      );
      return rows.length;
    },
  };
  return inbox;
}
