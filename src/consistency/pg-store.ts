import type { Client, ClientConfig, Pool, PoolClient } from "pg";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { importPeer } from "../util/import-peer.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { checkIdentifier, normaliseSqlError, type SqlRow, type SqlStore, type SqlTransaction } from "./sql-store.js";

/** Options of {@link createPgStore}. */
export interface PgStoreOptions {
  /** Schema of Ferry's tables. Default `"public"`. */
  schema?: string;
  /** Most pooled connections (`pg.Pool`'s `max`). Default 10. */
  maxConnections?: number;
  /** Delay before a lost LISTEN connection reconnects, in ms. Default 1000. */
  listenReconnectMs?: number;
  /** Logger for connection failures. Default: Ferry's pino logger. */
  logger?: Logger;
}

type PgModule = typeof import("pg");

/**
 * A {@link SqlStore} on a PostgreSQL server through `pg` (an optional peer,
 * loaded now): a connection pool for queries and transactions, and one
 * dedicated connection per `listen`. `url` is a libpq connection URI,
 * `postgres://user@host:5432/db`.
 *
 * @throws FerryError FAILED_PRECONDITION when `pg` is not installed,
 *   INVALID_ARGUMENT for a bad schema name, UNAVAILABLE when the server cannot be reached.
 */
export async function createPgStore(url: string, options: PgStoreOptions = {}): Promise<SqlStore> {
  const schema = checkIdentifier("schema", options.schema ?? "public");
  const mod = await importPeer("pg", () => import("pg"), "the PostgreSQL store");
  const pg = ((mod as unknown as { default?: PgModule }).default ?? mod) as PgModule;
  const max = options.maxConnections ?? 10;
  if (!Number.isInteger(max) || max < 1) throw new FerryError(Code.INVALID_ARGUMENT, `maxConnections must be an integer ≥ 1, got ${max}`);
  const config: ClientConfig = { connectionString: url };
  const logger = options.logger ?? getDefaultLogger();
  const pool = new pg.Pool({ ...config, max });
  pool.on("error", (err) => logger.warn({ err }, "idle PostgreSQL connection failed"));
  const store = new PgStore(pg, pool, config, schema, logger, options.listenReconnectMs ?? 1000);
  try {
    await store.query("SELECT 1");
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return store;
}

class PgStore implements SqlStore {
  readonly kind = "postgres" as const;
  readonly #listeners = new Set<() => Promise<void>>();
  #closed = false;

  constructor(
    private readonly pg: PgModule,
    private readonly pool: Pool,
    private readonly config: ClientConfig,
    readonly schema: string,
    private readonly logger: Logger,
    private readonly reconnectMs: number,
  ) {}

  async query<R extends SqlRow = SqlRow>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    this.#checkOpen();
    try {
      return (await this.pool.query<R>(sql, params as unknown[])).rows;
    } catch (err) {
      throw normaliseSqlError(err);
    }
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    this.#checkOpen();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw normaliseSqlError(err);
    }
    let broken: Error | undefined;
    try {
      return await runInTransaction(client, fn);
    } catch (err) {
      if (normaliseSqlError(err) !== err) broken = err as Error;
      throw normaliseSqlError(err);
    } finally {
      client.release(broken);
    }
  }

  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    this.#checkOpen();
    const listener = new PgListener(this.pg, this.config, channel, onNotify, this.logger, this.reconnectMs);
    await listener.connect();
    const stop = async (): Promise<void> => {
      this.#listeners.delete(stop);
      await listener.stop();
    };
    this.#listeners.add(stop);
    return stop;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#listeners].map((stop) => stop()));
    await this.pool.end();
  }

  #checkOpen(): void {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "the store is closed");
  }
}

async function runInTransaction<T>(client: PoolClient, fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
  let open = true;
  const tx: SqlTransaction = {
    query: async <R extends SqlRow>(sql: string, params: readonly unknown[] = []) => {
      if (!open) throw new FerryError(Code.FAILED_PRECONDITION, "the transaction has ended: use tx only inside the transaction's function");
      return (await client.query<R>(sql, params as unknown[])).rows;
    },
  };
  await client.query("BEGIN");
  try {
    const result = await fn(tx);
    open = false;
    await client.query("COMMIT");
    return result;
  } catch (err) {
    open = false;
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

/** One dedicated connection that LISTENs on a channel and reconnects after failures. */
class PgListener {
  #client: Client | undefined;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pg: PgModule,
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly onNotify: () => void,
    private readonly logger: Logger,
    private readonly reconnectMs: number,
  ) {}

  async connect(): Promise<void> {
    const client = new this.pg.Client(this.config);
    client.on("notification", (n) => {
      if (n.channel === this.channel) this.onNotify();
    });
    client.on("error", (err) => {
      this.logger.warn({ err, channel: this.channel }, "LISTEN connection failed; reconnecting");
      this.#retry(client);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${checkIdentifier("channel", this.channel)}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw normaliseSqlError(err);
    }
    if (this.#stopped) await client.end().catch(() => undefined);
    else this.#client = client;
  }

  #retry(failed: Client): void {
    if (this.#client !== failed || this.#stopped) return;
    this.#client = undefined;
    failed.end().catch(() => undefined);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    this.#timer = setTimeout(() => {
      if (this.#stopped) return;
      this.connect().then(
        () => this.onNotify(),
        (err: unknown) => {
          this.logger.warn({ err, channel: this.channel }, "LISTEN reconnect failed; retrying");
          this.#scheduleReconnect();
        },
      );
    }, this.reconnectMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
