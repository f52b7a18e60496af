/**
 * The stores the consistency tests run against: PGlite in memory (always)
 * and the real PostgreSQL on 127.0.0.1:5432 (checked with
 * test/support/services.ts: skipped with a reason locally, a failure with
 * FERRY_REQUIRE_SERVICES=1). Each PostgreSQL store gets a schema of its own,
 * `ferry_test_<random>`, dropped by `dispose`, so parallel files never collide.
 */
import { randomBytes } from "node:crypto";
import { createStore } from "../../src/consistency/create-store.js";
import { migrate } from "../../src/consistency/migrations.js";
import { createPgliteStore } from "../../src/consistency/pglite-store.js";
import type { SqlStore } from "../../src/consistency/sql-store.js";
import { checkService } from "../support/services.js";

/** The PostgreSQL server of the development machines. */
export const postgresUrl = process.env.FERRY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** The NATS JetStream server of the development machines. */
export const natsUrl = "nats://127.0.0.1:4222";

/** One kind of store under test. */
export interface TestStoreKind {
  readonly name: "pglite" | "postgres";
  /** True when the service is missing and tests must skip. */
  readonly skip: boolean;
  /** Opens a fresh, migrated store in a schema of its own. */
  open(): Promise<TestStore>;
}

/** A store plus what removes it. */
export interface TestStore {
  readonly store: SqlStore;
  readonly url: string;
  /** Drops the schema (PostgreSQL) and closes the store. */
  dispose(): Promise<void>;
}

/** A unique schema name for one test store. */
export function testSchema(): string {
  return `ferry_test_${randomBytes(5).toString("hex")}`;
}

/** PGlite and (when reachable) PostgreSQL. */
export async function storeKinds(): Promise<TestStoreKind[]> {
  const pg = await checkService("PostgreSQL", "127.0.0.1", 5432);
  return [
    {
      name: "pglite",
      skip: false,
      open: async () => {
        const store = await createPgliteStore(undefined, { schema: "ferry" }); // from the cached initdb template (pglite-template.ts)
        await migrate(store);
        return { store, url: "pglite:", dispose: () => store.close() };
      },
    },
    {
      name: "postgres",
      skip: pg.skip,
      open: () => openPostgres(testSchema()),
    },
  ];
}

/** Opens a migrated PostgreSQL store in `schema`; dispose drops the schema. */
export async function openPostgres(schema: string): Promise<TestStore> {
  const store = await createStore(postgresUrl, { schema, maxConnections: 4 });
  return {
    store,
    url: postgresUrl,
    dispose: async () => {
      await store.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await store.close();
    },
  };
}

/** Polls `predicate` every 20 ms until true, or rejects after `timeoutMs` naming `what`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A logger that drops everything (tests assert on events, not logs). */
export const quietLogger = { error() {}, warn() {}, info() {}, debug() {} };
