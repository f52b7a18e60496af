/**
 * Crash injection for sagas with the real PostgreSQL: the orchestrator
 * process is killed with SIGKILL after each persisted transition and after
 * each compensation (before it is persisted, so it runs twice), then
 * restarted; it must reach the final state of an uninterrupted run, with
 * the same sequence of distinct commands, and the ledger (an idempotent
 * callee) must be all-committed or all-compensated.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultPoint, type FaultPointName } from "../../src/consistency/fault-hook.js";
import { checkService } from "../support/services.js";
import { exited, forkChild } from "./child-support.js";
import { openPostgres, testSchema, type TestStore } from "./test-stores.js";

const pg = await checkService("PostgreSQL", "127.0.0.1", 5432);
const child = fileURLToPath(new URL("./saga-child.ts", import.meta.url));

interface Outcome {
  status: string;
  calls: string[];
  ledger: { step: string; undone: boolean }[];
}

describe.skipIf(pg.skip)("saga crash injection (PostgreSQL)", () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await openPostgres(testSchema());
    await t.store.query(`CREATE TABLE ${t.store.schema}.calls (seq serial PRIMARY KEY, call text NOT NULL)`);
    await t.store.query(`CREATE TABLE ${t.store.schema}.ledger (key text PRIMARY KEY, step text NOT NULL, undone boolean NOT NULL DEFAULT false)`);
  });
  afterAll(async () => t?.dispose());

  async function run(sagaId: string, failStep: number, point?: FaultPointName, hit?: number): Promise<string | undefined> {
    const c = forkChild(child, { url: t.url, schema: t.store.schema, sagaId, failStep, point, hit });
    let status: string | undefined;
    c.on("message", (m: { status?: string }) => (status = m.status));
    await exited(c);
    return status;
  }

  async function outcome(sagaId: string): Promise<Outcome> {
    const s = t.store.schema;
    const calls = await t.store.query<{ call: string }>(`SELECT call FROM ${s}.calls WHERE call LIKE $1 ORDER BY seq`, [`% ${sagaId}:%`]);
    const ledger = await t.store.query<{ step: string; undone: boolean }>(`SELECT step, undone FROM ${s}.ledger WHERE key LIKE $1 ORDER BY step`, [`${sagaId}:%`]);
    const status = await t.store.query<{ status: string }>(`SELECT status FROM ${s}.ferry_sagas WHERE id = $1`, [sagaId]);
    return { status: status[0]?.status ?? "missing", calls: [...new Set(calls.map((c) => c.call.replace(`${sagaId}:`, "")))], ledger };
  }

  const cases: [string, number, FaultPointName, number][] = [
    ...[1, 2, 3, 4, 5, 6].map((hit): [string, number, FaultPointName, number] => ["after persisted transition", 3, FaultPoint.sagaAfterPersist, hit]),
    ...[1, 2, 3].map((hit): [string, number, FaultPointName, number] => ["after compensation, before persisting it", 3, FaultPoint.sagaAfterCompensation, hit]),
    ["after persisted step (no failure)", 0, FaultPoint.sagaAfterPersist, 2],
  ];

  it("reaches the uninterrupted run's final state after a SIGKILL at each point", async () => {
    const reference = new Map<number, Outcome>();
    for (const failStep of [0, 3]) {
      await run(`ref-${failStep}`, failStep);
      reference.set(failStep, await outcome(`ref-${failStep}`));
    }
    expect(reference.get(0)!.status).toBe("committed");
    expect(reference.get(3)!.status).toBe("compensated");
    const check = async ([label, failStep, point, hit]: (typeof cases)[number], i: number): Promise<void> => {
      const id = `case-${i}`;
      expect(await run(id, failStep, point, hit), `${label} #${hit}`).toBeUndefined(); // killed: no status reported
      await run(id, failStep);
      expect({ label, hit, ...(await outcome(id)) }).toEqual({ label, hit, ...reference.get(failStep)! });
    };
    for (let i = 0; i < cases.length; i += 4) await Promise.all(cases.slice(i, i + 4).map((c, j) => check(c, i + j)));
  }, 120_000);
});
