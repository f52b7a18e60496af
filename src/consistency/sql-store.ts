import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** A row as a driver returns it: column name to value. */
export type SqlRow = Record<string, unknown>;

/**
 * Runs SQL with positional parameters (`$1`, `$2`, …) and resolves with the
 * rows. A transaction handed to your code by {@link SqlStore.transaction} is
 * one; so is the store itself (each query in its own implicit transaction).
 */
export interface SqlExecutor {
  /**
   * Runs one statement. Parameters are sent separately from the text (never
   * interpolated); `Uint8Array` goes as `bytea`, objects as JSON where the
   * column is `jsonb`. Rejects with the driver's error for bad SQL, and with
   * FerryError UNAVAILABLE (retryable) when the database cannot be reached.
   */
  query<R extends SqlRow = SqlRow>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** The transaction your code runs in: every query through it commits or rolls back together. */
export type SqlTransaction = SqlExecutor;

/**
 * The tiny driver-neutral database interface the consistency room runs on:
 * PostgreSQL through `pg` ({@link createPgStore}) or PGlite, PostgreSQL
 * compiled to WebAssembly, in process ({@link createPgliteStore}). Create one
 * with {@link createStore}.
 */
export interface SqlStore extends SqlExecutor {
  /** `"postgres"` or `"pglite"`. */
  readonly kind: "postgres" | "pglite";
  /** The PostgreSQL schema that holds Ferry's tables (`ferry_outbox`, …). */
  readonly schema: string;
  /**
   * Runs `fn` in one transaction (READ COMMITTED): commits when its promise
   * resolves, rolls back and rejects with its error when it rejects. On
   * PGlite (a single connection) transactions run one at a time, and calling
   * the store itself (not `tx`) inside `fn` waits forever: use `tx`.
   */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` for every `NOTIFY` on `channel` (a lower-case identifier, else INVALID_ARGUMENT; PostgreSQL's
   * LISTEN/NOTIFY: notifications are delivered when the notifying
   * transaction commits). Resolves with a function that stops listening.
   * On `pg` a dedicated connection listens and reconnects after a failure,
   * calling `onNotify` once reconnected (a notification may have been missed).
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  /** Closes the connections (pool, listener, PGlite instance). Idempotent. */
  close(): Promise<void>;
}

const identifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks a schema or table name Ferry puts into SQL text (lower-case letters,
 * digits and `_`, at most 63 characters: an unquoted PostgreSQL identifier).
 * @throws FerryError INVALID_ARGUMENT naming `what`.
 */
export function checkIdentifier(what: string, name: string): string {
  if (typeof name !== "string" || !identifierPattern.test(name)) {
    throw new FerryError(Code.INVALID_ARGUMENT, `${what} "${String(name)}" is invalid: use 1–63 lower-case letters, digits and "_", not starting with a digit`);
  }
  return name;
}

/** `schema.table`, both checked with {@link checkIdentifier}. */
export function qualified(schema: string, table: string): string {
  return `${checkIdentifier("schema", schema)}.${checkIdentifier("table", table)}`;
}

/**
 * The NOTIFY channel the outbox trigger signals for `schema`:
 * `ferry_outbox_<schema>`, cut to 63 characters (PostgreSQL's identifier
 * length), a plain lower-case identifier on every driver.
 */
export function outboxChannel(schema: string): string {
  return `ferry_outbox_${schema}`.slice(0, 63);
}

const unavailableSqlStates = new Set(["57P01", "57P02", "57P03", "53300"]);
const unavailableErrnos = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"]);

/**
 * Normalises a driver error: lost or refused connections (socket errors,
 * SQLSTATE class 08, admin shutdown, too many connections) become FerryError
 * UNAVAILABLE (retryable); serialization failures and deadlocks (40001,
 * 40P01) become ABORTED (retryable); anything else is returned unchanged.
 */
export function normaliseSqlError(err: unknown): unknown {
  if (err instanceof FerryError || typeof err !== "object" || err === null) return err;
  const code = String((err as { code?: unknown }).code ?? "");
  const message = (err as Error).message ?? String(err);
  if (unavailableErrnos.has(code) || code.startsWith("08") || unavailableSqlStates.has(code) || /Connection terminated/i.test(message)) {
    return new FerryError(Code.UNAVAILABLE, `database unavailable: ${message}`, { cause: err, retryable: true });
  }
  if (code === "40001" || code === "40P01") {
    return new FerryError(Code.ABORTED, `transaction aborted by the database (${code}): ${message}`, { cause: err, retryable: true });
  }
  return err;
}
