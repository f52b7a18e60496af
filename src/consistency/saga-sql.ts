import { qualified, type SqlExecutor, type SqlStore, type SqlTransaction } from "./sql-store.js";

/** Where a saga is: `running` its actions, `compensating`, or one of the three final statuses. */
export type SagaStatusName = "running" | "compensating" | "committed" | "compensated" | "needs_attention";

/** What happened to a saga, one entry per persisted transition. */
export type SagaTransitionKind =
  | "started"
  | "step_completed"
  | "step_failed"
  | "compensation_completed"
  | "compensation_failed"
  | "committed"
  | "compensated"
  | "resumed"
  | "retried";

/** A saga's persisted state. */
export interface SagaState {
  readonly id: string;
  readonly name: string;
  readonly status: SagaStatusName;
  readonly input: unknown;
  readonly results: Record<string, unknown>;
  /** While running: index of the next action. While compensating: index of the next compensation (counting down). */
  readonly step: number;
  /** Index of the step whose action failed, if one did. */
  readonly failedStep: number | null;
  /** The failing action's error, if one failed. */
  readonly error: string | null;
  /** Why the saga needs attention (the compensation's last error). */
  readonly attentionReason: string | null;
}

/** One transition of a saga's history. */
export interface SagaTransition {
  readonly kind: SagaTransitionKind;
  readonly step: string | null;
  readonly status: SagaStatusName;
  readonly detail: string | null;
  readonly at: Date;
}

/** The next state to persist and the transition that leads there. */
export interface SagaUpdate {
  readonly status: SagaStatusName;
  readonly step: number;
  readonly results?: Record<string, unknown>;
  readonly failedStep?: number;
  readonly error?: string;
  readonly attentionReason?: string;
  readonly kind: SagaTransitionKind;
  readonly stepName: string | null;
  readonly detail?: string;
  /** A second transition logged in the same transaction (a last step's `committed`). */
  readonly then?: SagaTransitionKind;
}

const columns = "id, name, status, input, results, step, failed_step, error, attention_reason";

/** The saga runner's SQL: state rows, leases and the transition log. */
export class SagaSql {
  readonly #sagas: string;
  readonly #log: string;

  constructor(schema: string) {
    this.#sagas = qualified(schema, "ferry_sagas");
    this.#log = qualified(schema, "ferry_saga_log");
  }

  /** Inserts a running saga leased to `owner`; resolves with the existing row's name when the id is taken. */
  async insert(store: SqlStore, row: { id: string; name: string; input: string; owner: string; leaseMs: number }): Promise<string | undefined> {
    return store.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO ${this.#sagas} (id, name, status, input, lease_owner, lease_until)
         VALUES ($1, $2, 'running', $3::jsonb, $4, now() + $5::bigint * interval '1 millisecond') ON CONFLICT (id) DO NOTHING RETURNING id`,
        [row.id, row.name, row.input, row.owner, row.leaseMs],
      );
      if (inserted.length === 0) {
        const existing = await tx.query<{ name: string }>(`SELECT name FROM ${this.#sagas} WHERE id = $1`, [row.id]);
        return existing[0]?.name;
      }
      await this.#append(tx, row.id, "started", null, "running", null);
      return undefined;
    });
  }

  /**
   * Persists `update` if `owner` still holds the saga's lease, extending it;
   * resolves false when another runner took the saga over.
   */
  async persist(store: SqlStore, id: string, owner: string, leaseMs: number, u: SagaUpdate): Promise<boolean> {
    return store.transaction(async (tx) => {
      const final = u.status !== "running" && u.status !== "compensating";
      const rows = await tx.query(
        `UPDATE ${this.#sagas} SET status = $3, step = $4, results = COALESCE($5::jsonb, results),
           failed_step = COALESCE($6, failed_step), error = COALESCE($7, error), attention_reason = $8,
           lease_until = CASE WHEN $9 THEN NULL ELSE now() + $10::bigint * interval '1 millisecond' END,
           lease_owner = CASE WHEN $9 THEN NULL ELSE lease_owner END, updated_at = now()
         WHERE id = $1 AND lease_owner = $2 RETURNING id`,
        [id, owner, u.status, u.step, u.results === undefined ? null : JSON.stringify(u.results), u.failedStep ?? null, u.error ?? null, u.attentionReason ?? null, final, leaseMs],
      );
      if (rows.length === 0) return false;
      if (u.then === undefined) await this.#append(tx, id, u.kind, u.stepName, u.status, u.detail ?? null);
      else {
        await this.#append(tx, id, u.kind, u.stepName, "running", u.detail ?? null);
        await this.#append(tx, id, u.then, null, u.status, null);
      }
      return true;
    });
  }

  /** Leases up to `limit` in-flight sagas named in `names` whose lease expired (or that `owner` held), for `owner`. */
  async claim(store: SqlStore, owner: string, names: readonly string[], leaseMs: number, limit: number): Promise<SagaState[]> {
    const rows = await store.query(
      `UPDATE ${this.#sagas} SET lease_owner = $1, lease_until = now() + $3::bigint * interval '1 millisecond'
       WHERE id IN (SELECT id FROM ${this.#sagas} WHERE status IN ('running', 'compensating') AND name = ANY($2::text[])
         AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $1) ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING ${columns}`,
      [owner, names, leaseMs, limit],
    );
    return rows.map(toState);
  }

  /** Extends the leases of the given sagas held by `owner`. */
  async renew(store: SqlStore, owner: string, ids: readonly string[], leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    await store.query(
      `UPDATE ${this.#sagas} SET lease_until = now() + $3::bigint * interval '1 millisecond' WHERE lease_owner = $1 AND id = ANY($2::text[])`,
      [owner, ids, leaseMs],
    );
  }

  /** Gives up `owner`'s leases on the given sagas, so another runner resumes them at once. */
  async release(store: SqlStore, owner: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await store.query(`UPDATE ${this.#sagas} SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 AND id = ANY($2::text[])`, [owner, ids]);
  }

  /** Puts a `needs_attention` saga back to compensating (after a person fixed the cause). */
  async retry(store: SqlStore, id: string): Promise<boolean> {
    return store.transaction(async (tx) => {
      const rows = await tx.query(
        `UPDATE ${this.#sagas} SET status = 'compensating', attention_reason = NULL, lease_owner = NULL, lease_until = NULL, updated_at = now()
         WHERE id = $1 AND status = 'needs_attention' RETURNING id`,
        [id],
      );
      if (rows.length > 0) await this.#append(tx, id, "retried", null, "compensating", null);
      return rows.length > 0;
    });
  }

  /** The saga's state, or undefined. */
  async get(db: SqlExecutor, id: string): Promise<SagaState | undefined> {
    const rows = await db.query(`SELECT ${columns} FROM ${this.#sagas} WHERE id = $1`, [id]);
    return rows.length === 0 ? undefined : toState(rows[0]);
  }

  /** The saga's transitions, oldest first. */
  async history(db: SqlExecutor, id: string): Promise<SagaTransition[]> {
    const rows = await db.query<{ kind: SagaTransitionKind; step: string | null; status: SagaStatusName; detail: string | null; at: Date | string }>(
      `SELECT kind, step, status, detail, at FROM ${this.#log} WHERE saga_id = $1 ORDER BY seq`,
      [id],
    );
    return rows.map((r) => ({ kind: r.kind, step: r.step, status: r.status, detail: r.detail, at: new Date(r.at) }));
  }

  /** Logs a transition that changes no state (a saga resumed by another runner or after a restart). */
  async log(db: SqlExecutor, id: string, kind: SagaTransitionKind, status: SagaStatusName): Promise<void> {
    await db.query(`INSERT INTO ${this.#log} (saga_id, kind, step, status, detail) VALUES ($1, $2, NULL, $3, NULL)`, [id, kind, status]);
  }

  async #append(tx: SqlTransaction, id: string, kind: SagaTransitionKind, step: string | null, status: SagaStatusName, detail: string | null): Promise<void> {
    await tx.query(`INSERT INTO ${this.#log} (saga_id, kind, step, status, detail) VALUES ($1, $2, $3, $4, $5)`, [id, kind, step, status, detail]);
  }
}

function toState(r: Record<string, unknown>): SagaState {
  const json = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v);
  return {
    id: r.id as string,
    name: r.name as string,
    status: r.status as SagaStatusName,
    input: json(r.input),
    results: (json(r.results) ?? {}) as Record<string, unknown>,
    step: Number(r.step),
    failedStep: r.failed_step === null ? null : Number(r.failed_step),
    error: (r.error as string | null) ?? null,
    attentionReason: (r.attention_reason as string | null) ?? null,
  };
}
