import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeKinds, type TestStore, testSchema, postgresUrl } from "../../test/consistency/test-stores.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { createStore, pgliteDir } from "./create-store.js";
import { migrate, migrations } from "./migrations.js";
import { outboxChannel } from "./sql-store.js";

const kinds = await storeKinds();

describe.each(kinds)("SqlStore on $name", (kind) => {
  let t: TestStore;
  beforeAll(async () => {
    if (!kind.skip) t = await kind.open();
  });
  afterAll(async () => t?.dispose());

  it.skipIf(kind.skip)("applies every migration once and records it", async () => {
    const s = t.store.schema;
    const rows = await t.store.query<{ version: number }>(`SELECT version FROM ${s}.ferry_migrations ORDER BY version`);
    expect(rows.map((r) => Number(r.version))).toEqual(migrations.map((m) => m.version));
    expect(await migrate(t.store)).toEqual([]);
  });

  it.skipIf(kind.skip)("commits a transaction whose function resolves", async () => {
    await t.store.query(`CREATE TABLE ${t.store.schema}.t1 (v int)`);
    await t.store.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${t.store.schema}.t1 VALUES ($1)`, [1]);
    });
    expect(await t.store.query(`SELECT v FROM ${t.store.schema}.t1`)).toEqual([{ v: 1 }]);
  });

  it.skipIf(kind.skip)("rolls back a transaction whose function rejects, with its error", async () => {
    await t.store.query(`CREATE TABLE ${t.store.schema}.t2 (v int)`);
    const boom = new Error("boom");
    await expect(
      t.store.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${t.store.schema}.t2 VALUES (1)`);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await t.store.query(`SELECT v FROM ${t.store.schema}.t2`)).toEqual([]);
  });

  it.skipIf(kind.skip)("rejects a query on a transaction that has ended with FAILED_PRECONDITION", async () => {
    let leaked: { query: (sql: string) => Promise<unknown> } | undefined;
    await t.store.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.query("SELECT 1")).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
  });

  it.skipIf(kind.skip)("delivers NOTIFY on commit to a listener", async () => {
    let notified = 0;
    const channel = outboxChannel(t.store.schema);
    const stop = await t.store.listen(channel, () => notified++);
    await t.store.query("SELECT pg_notify($1, '')", [channel]);
    const end = Date.now() + 5000;
    while (notified === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(notified).toBeGreaterThan(0);
    await stop();
  });
});

describe("createStore()", () => {
  it("rejects an unknown scheme with INVALID_ARGUMENT", async () => {
    await expect(createStore("mysql://x")).rejects.toSatisfy((e: unknown) => e instanceof FerryError && e.code === Code.INVALID_ARGUMENT);
  });

  it("rejects a bad schema name with INVALID_ARGUMENT", async () => {
    await expect(createStore("pglite:", { schema: "Robert'); DROP" })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  it("reads pglite URLs: memory and a directory", () => {
    expect(pgliteDir("pglite:")).toBeUndefined();
    expect(pgliteDir("pglite://memory")).toBeUndefined();
    expect(pgliteDir("pglite:///tmp/x")).toBe("/tmp/x");
    expect(() => pgliteDir("pglite:oops")).toThrow(FerryError);
  });

  it.skipIf(kinds[1].skip)("migrates once when several stores start at once (advisory lock)", async () => {
    const schema = testSchema();
    const stores = await Promise.all([0, 1, 2].map(() => createStore(postgresUrl, { schema, maxConnections: 2 })));
    const rows = await stores[0].query(`SELECT version FROM ${schema}.ferry_migrations`);
    expect(rows).toHaveLength(migrations.length);
    await stores[0].query(`DROP SCHEMA ${schema} CASCADE`);
    await Promise.all(stores.map((s) => s.close()));
  });

  it("reports an unreachable PostgreSQL as UNAVAILABLE", async () => {
    await expect(createStore("postgres://postgres@127.0.0.1:1/test")).rejects.toMatchObject({ code: Code.UNAVAILABLE });
  });
});

describe.skipIf(kinds[1].skip)("PostgreSQL LISTEN connection", () => {
  it("reconnects after the server ends it, calls onNotify once reconnected, and receives later notifications", async () => {
    const schema = testSchema();
    const store = await createStore(postgresUrl, { schema, maxConnections: 2 });
    const { createPgStore } = await import("./pg-store.js");
    const listening = await createPgStore(postgresUrl, { schema, listenReconnectMs: 50, logger: { error() {}, warn() {}, info() {}, debug() {} } });
    let notified = 0;
    const channel = outboxChannel(schema);
    const stop = await listening.listen(channel, () => notified++);
    const waitUntil = async (n: number) => {
      const end = Date.now() + 5000;
      while (notified < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      return notified;
    };
    await store.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, [`LISTEN ${channel}`]);
    expect(await waitUntil(1)).toBe(1); // the "you may have missed something" call after reconnecting
    await store.query("SELECT pg_notify($1, '')", [channel]);
    expect(await waitUntil(2)).toBe(2);
    await stop();
    await listening.close();
    await store.query(`DROP SCHEMA ${schema} CASCADE`);
    await store.close();
  });
});
