import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { qualified, type SqlStore, type SqlTransaction } from "./sql-store.js";

/** One versioned change of Ferry's tables. */
export interface Migration {
  /** 1, 2, 3, …: applied in order, each once, recorded in `ferry_migrations`. */
  readonly version: number;
  readonly description: string;
  /** The statements, for the schema `schema` (one statement each: PGlite's extended protocol takes one at a time). */
  statements(schema: string): string[];
}

/**
 * Ferry's schema. The outbox table follows the shape of Debezium's outbox
 * event router (id, aggregate key, type, payload), plus what a relay needs:
 * a sequence for order, attempts, the next attempt time and the sent time.
 * Never edit a released migration: append one.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: "outbox, inbox and sagas",
    statements: (s) => [
      `CREATE TABLE ${qualified(s, "ferry_outbox")} (
        id uuid PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        topic text NOT NULL,
        ordering_key text,
        type text NOT NULL,
        payload bytea NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        sent_at timestamptz)`,
      `CREATE UNIQUE INDEX ferry_outbox_seq ON ${qualified(s, "ferry_outbox")} (seq)`,
      `CREATE INDEX ferry_outbox_pending ON ${qualified(s, "ferry_outbox")} (seq) WHERE sent_at IS NULL`,
      `CREATE INDEX ferry_outbox_pending_key ON ${qualified(s, "ferry_outbox")} (ordering_key, seq) WHERE sent_at IS NULL`,
      `CREATE INDEX ferry_outbox_retry ON ${qualified(s, "ferry_outbox")} (next_attempt_at) WHERE sent_at IS NULL`,
      `CREATE INDEX ferry_outbox_sent ON ${qualified(s, "ferry_outbox")} (sent_at) WHERE sent_at IS NOT NULL`,
      `CREATE FUNCTION ${qualified(s, "ferry_outbox_notify")}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify(left('ferry_outbox_' || TG_TABLE_SCHEMA, 63), ''); RETURN NULL; END $$`,
      `CREATE TRIGGER ferry_outbox_notify AFTER INSERT ON ${qualified(s, "ferry_outbox")}
        FOR EACH STATEMENT EXECUTE FUNCTION ${qualified(s, "ferry_outbox_notify")}()`,
      `CREATE TABLE ${qualified(s, "ferry_inbox")} (
        consumer_group text NOT NULL,
        message_id text NOT NULL,
        topic text NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer_group, message_id))`,
      `CREATE INDEX ferry_inbox_handled_at ON ${qualified(s, "ferry_inbox")} (handled_at)`,
      `CREATE TABLE ${qualified(s, "ferry_sagas")} (
        id text PRIMARY KEY,
        name text NOT NULL,
        status text NOT NULL,
        input jsonb NOT NULL,
        results jsonb NOT NULL DEFAULT '{}',
        step integer NOT NULL DEFAULT 0,
        failed_step integer,
        error text,
        attention_reason text,
        lease_owner text,
        lease_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE INDEX ferry_sagas_active ON ${qualified(s, "ferry_sagas")} (lease_until) WHERE status IN ('running', 'compensating')`,
      `CREATE TABLE ${qualified(s, "ferry_saga_log")} (
        saga_id text NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        kind text NOT NULL,
        step text,
        status text NOT NULL,
        detail text,
        at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (saga_id, seq))`,
    ],
  },
];

/**
 * Applies the {@link migrations} not yet recorded in `<schema>.ferry_migrations`,
 * in one transaction under a transaction-level advisory lock
 * (`pg_advisory_xact_lock`), so processes starting at once apply each
 * migration exactly once. Creates the schema if missing. Resolves with the
 * versions it applied.
 *
 * @throws FerryError FAILED_PRECONDITION when the database records a version
 *   newer than this Ferry knows (a newer Ferry migrated it).
 */
export async function migrate(store: SqlStore): Promise<number[]> {
  const s = store.schema;
  return store.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`ferry_migrations:${s}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${qualified(s, "ferry_migrations")} (
      version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const current = await currentVersion(tx, s);
    const latest = migrations[migrations.length - 1].version;
    if (current > latest) {
      throw new FerryError(Code.FAILED_PRECONDITION, `schema "${s}" is at migration ${current}, newer than this Ferry's ${latest}: upgrade Ferry`);
    }
    const applied: number[] = [];
    for (const m of migrations) {
      if (m.version <= current) continue;
      for (const statement of m.statements(s)) await tx.query(statement);
      await tx.query(`INSERT INTO ${qualified(s, "ferry_migrations")} (version, description) VALUES ($1, $2)`, [m.version, m.description]);
      applied.push(m.version);
    }
    return applied;
  });
}

async function currentVersion(tx: SqlTransaction, schema: string): Promise<number> {
  const rows = await tx.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${qualified(schema, "ferry_migrations")}`);
  return Number(rows[0]?.v ?? 0);
}
