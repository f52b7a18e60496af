import { readdir } from "node:fs/promises";
import type { PGlite, PGliteOptions, Transaction } from "@electric-sql/pglite";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { importPeer } from "../util/import-peer.js";
import { defaultTemplateDir, openFromTemplate, pgliteAssets } from "./pglite-template.js";
import { checkIdentifier, type SqlRow, type SqlStore, type SqlTransaction } from "./sql-store.js";

/** Options of {@link createPgliteStore}. */
export interface PgliteStoreOptions {
  /** Schema of Ferry's tables. Default `"public"`. */
  schema?: string;
  /**
   * A data directory dump (PGlite's `dumpDataDir()`, a tarball) to start
   * from instead of running initdb: starts several times faster, for tests
   * and fixtures. Default: none (a new cluster).
   */
  loadDataDir?: Blob;
  /**
   * Where a freshly initialised cluster is cached as a template, per PGlite
   * version, so that later in-memory stores (and new directories) start in
   * about a second instead of five: a directory, or `false` to run initdb
   * every time. Default `<tmpdir>/ferry-<user>` (mode 0700). Ignored with
   * `loadDataDir`.
   */
  templateDir?: string | false;
}

/**
 * A {@link SqlStore} on PGlite (`@electric-sql/pglite`, an optional peer,
 * loaded now): PostgreSQL compiled to WebAssembly, in this process, with
 * nothing installed. `dataDir` is a directory to persist to, or `undefined`
 * for a database in memory (lost when the process ends).
 *
 * PGlite is one connection: queries and transactions run one at a time, so
 * several relays or runners in one process share it without `SKIP LOCKED`
 * mattering, and a second process cannot open the same directory.
 *
 * @throws FerryError FAILED_PRECONDITION when `@electric-sql/pglite` is not
 *   installed, INVALID_ARGUMENT for a bad schema name.
 */
export async function createPgliteStore(dataDir: string | undefined, options: PgliteStoreOptions = {}): Promise<SqlStore> {
  const schema = checkIdentifier("schema", options.schema ?? "public");
  const mod = await importPeer("@electric-sql/pglite", () => import("@electric-sql/pglite"), "the PGlite store");
  const shared = await pgliteAssets();
  const open = (loadDataDir: Blob | undefined) => {
    const init = (loadDataDir === undefined ? shared : { ...shared, loadDataDir }) as PGliteOptions;
    return dataDir === undefined ? mod.PGlite.create(init) : mod.PGlite.create(dataDir, init);
  };
  if (options.loadDataDir !== undefined) return new PgliteStore(await open(options.loadDataDir), schema);
  const templateDir = options.templateDir ?? defaultTemplateDir();
  const fresh = dataDir === undefined || (await isEmptyDir(dataDir));
  const db = templateDir === false || !fresh ? await open(undefined) : await openFromTemplate(templateDir, open);
  return new PgliteStore(db, schema);
}

class PgliteStore implements SqlStore {
  readonly kind = "pglite" as const;
  #closed = false;

  constructor(
    private readonly db: PGlite,
    readonly schema: string,
  ) {}

  async query<R extends SqlRow = SqlRow>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    this.#checkOpen();
    return (await this.db.query<R>(sql, params as unknown[])).rows;
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    this.#checkOpen();
    return this.db.transaction(async (t: Transaction) => {
      let open = true;
      const tx: SqlTransaction = {
        query: async <R extends SqlRow>(sql: string, params: readonly unknown[] = []) => {
          if (!open) throw new FerryError(Code.FAILED_PRECONDITION, "the transaction has ended: use tx only inside the transaction's function");
          return (await t.query<R>(sql, params as unknown[])).rows;
        },
      };
      try {
        return await fn(tx);
      } finally {
        open = false;
      }
    });
  }

  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    this.#checkOpen();
    const unlisten = await this.db.listen(checkIdentifier("channel", channel), () => onNotify());
    return async () => {
      if (!this.#closed) await unlisten();
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.db.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "the store is closed");
  }
}

/** Whether `dir` is missing or empty (a new database: a template may seed it). */
async function isEmptyDir(dir: string): Promise<boolean> {
  return readdir(dir).then((entries) => entries.length === 0, () => true);
}
