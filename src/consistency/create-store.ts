import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Logger } from "../util/logger.js";
import { migrate } from "./migrations.js";
import { createPgStore } from "./pg-store.js";
import { createPgliteStore } from "./pglite-store.js";
import type { SqlStore } from "./sql-store.js";

/** Options of {@link createStore}. */
export interface StoreOptions {
  /**
   * Schema of Ferry's tables (`ferry_outbox`, `ferry_inbox`, `ferry_sagas`,
   * `ferry_migrations`); created if missing. Default `"public"`.
   */
  schema?: string;
  /** Apply Ferry's migrations on start ({@link migrate}). Default true. */
  migrate?: boolean;
  /** Most pooled connections on PostgreSQL. Default 10. */
  maxConnections?: number;
  /** Delay before a lost LISTEN connection reconnects on PostgreSQL, in ms. Default 1000. */
  listenReconnectMs?: number;
  /** Logger. Default: Ferry's pino logger. */
  logger?: Logger;
}

/**
 * Opens the database the outbox, inbox and saga runner keep their state in,
 * and applies Ferry's migrations:
 *
 * - `postgres://user@host:5432/db` (or `postgresql://`): a PostgreSQL server through `pg`;
 * - `pglite://DIR`: PGlite persisted in directory `DIR` (`pglite:///abs/path` or `pglite://./rel`);
 * - `pglite:` or `pglite://memory`: PGlite in memory, the embedded default.
 *
 * @throws FerryError INVALID_ARGUMENT for an unknown scheme or bad options,
 *   FAILED_PRECONDITION when the driver package is not installed,
 *   UNAVAILABLE when the server cannot be reached.
 */
export async function createStore(url: string = "pglite:", options: StoreOptions = {}): Promise<SqlStore> {
  if (typeof url !== "string") throw new FerryError(Code.INVALID_ARGUMENT, "createStore needs a URL string such as pglite: or postgres://127.0.0.1:5432/db");
  let store: SqlStore;
  if (/^postgres(ql)?:\/\//.test(url)) {
    store = await createPgStore(url, options);
  } else if (url.startsWith("pglite:")) {
    store = await createPgliteStore(pgliteDir(url), { schema: options.schema });
  } else {
    throw new FerryError(Code.INVALID_ARGUMENT, `unknown store URL "${url}": use postgres://…, pglite://DIR or pglite: (in memory)`);
  }
  if (options.migrate !== false) {
    try {
      await migrate(store);
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }
  return store;
}

/** The data directory of a `pglite:` URL, `undefined` for memory. */
export function pgliteDir(url: string): string | undefined {
  const rest = url.slice("pglite:".length);
  if (rest === "" || rest === "//" || rest === "//memory" || rest === "memory") return undefined;
  if (!rest.startsWith("//")) throw new FerryError(Code.INVALID_ARGUMENT, `bad PGlite URL "${url}": use pglite://DIR or pglite: for memory`);
  return decodeURIComponent(rest.slice(2));
}
