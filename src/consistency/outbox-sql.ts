import { qualified, type SqlTransaction } from "./sql-store.js";

/** One claimed outbox row, as the relay publishes it. */
export interface ClaimedRow {
  readonly id: string;
  readonly topic: string;
  readonly orderingKey: string | null;
  readonly type: string;
  readonly payload: Uint8Array;
  readonly headers: Record<string, string>;
  readonly attempts: number;
  readonly createdAtMs: number;
}

interface RawRow extends Record<string, unknown> {
  id: string;
  topic: string;
  ordering_key: string | null;
  type: string;
  payload: Uint8Array;
  headers: Record<string, string> | string;
  attempts: number;
  created_ms: string | number;
}

/**
 * The SQL of the relay. Claiming takes the oldest due rows with
 * `FOR UPDATE SKIP LOCKED` (PostgreSQL docs, SELECT › The Locking Clause:
 * rows another relay's transaction holds are skipped, not waited for), then
 * keeps a row only if every older unsent row with its ordering key is claimed
 * by this same statement: a row whose predecessor is held by another relay or
 * waiting for a retry stays where it is, so per-key order holds across relays.
 * Rows behind a predecessor waiting for its retry are not even claimed, so
 * they never fill a batch and starve other keys.
 */
export class OutboxSql {
  readonly #claim: string;
  readonly #markSent: string;
  readonly #markFailed: string;
  readonly #prune: string;

  constructor(schema: string) {
    const t = qualified(schema, "ferry_outbox");
    this.#claim = `WITH blocked AS MATERIALIZED (
        SELECT DISTINCT ordering_key FROM ${t}
        WHERE sent_at IS NULL AND next_attempt_at > now() AND ordering_key IS NOT NULL),
      claimed AS (
        SELECT o.id, o.seq, o.ordering_key FROM ${t} o
        WHERE o.sent_at IS NULL AND o.next_attempt_at <= now()
          AND (o.ordering_key IS NULL OR o.ordering_key NOT IN (SELECT ordering_key FROM blocked))
        ORDER BY o.seq LIMIT $1
        FOR UPDATE OF o SKIP LOCKED)
      SELECT r.id::text AS id, r.topic, r.ordering_key, r.type, r.payload, r.headers, r.attempts,
        (extract(epoch FROM r.created_at) * 1000)::bigint AS created_ms
      FROM ${t} r JOIN claimed c ON r.id = c.id
      WHERE c.ordering_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM ${t} p WHERE p.ordering_key = c.ordering_key AND p.sent_at IS NULL
          AND p.seq < c.seq AND p.id NOT IN (SELECT id FROM claimed))
      ORDER BY r.seq`;
    this.#markSent = `UPDATE ${t} SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::uuid[])`;
    this.#markFailed = `UPDATE ${t} SET attempts = attempts + 1, last_error = $2,
      next_attempt_at = now() + $3::integer * interval '1 millisecond' WHERE id = $1`;
    this.#prune = `DELETE FROM ${t} WHERE id IN (
      SELECT id FROM ${t} WHERE sent_at IS NOT NULL AND sent_at < now() - $1::bigint * interval '1 millisecond' LIMIT $2)`;
  }

  /** Claims up to `limit` publishable rows, oldest first, locked until `tx` ends. */
  async claim(tx: SqlTransaction, limit: number): Promise<ClaimedRow[]> {
    const rows = await tx.query<RawRow>(this.#claim, [limit]);
    return rows.map((r) => ({
      id: r.id,
      topic: r.topic,
      orderingKey: r.ordering_key,
      type: r.type,
      payload: r.payload,
      headers: typeof r.headers === "string" ? (JSON.parse(r.headers) as Record<string, string>) : r.headers,
      attempts: Number(r.attempts),
      createdAtMs: Number(r.created_ms),
    }));
  }

  /** Marks rows sent (after the broker confirmed them). */
  async markSent(tx: SqlTransaction, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await tx.query(this.#markSent, [ids]);
  }

  /** Records a failed attempt and when to try again. */
  async markFailed(tx: SqlTransaction, id: string, error: string, retryInMs: number): Promise<void> {
    await tx.query(this.#markFailed, [id, error.slice(0, 2000), Math.round(retryInMs)]);
  }

  /** Deletes up to `limit` rows sent more than `retentionMs` ago; resolves with how many. */
  async prune(tx: SqlTransaction, retentionMs: number, limit: number): Promise<number> {
    const rows = await tx.query(`${this.#prune} RETURNING 1`, [Math.round(retentionMs), limit]);
    return rows.length;
  }
}
