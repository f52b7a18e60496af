/**
 * Property: for random sagas (1–4 steps), a step failing for good or
 * after transient failures, compensations failing transiently or until the
 * saga needs attention (then fixed and retried), and random crashes of the
 * orchestrator at the fault points (each followed by a new runner that
 * resumes), the saga ends all-committed or all-compensated: committed
 * exactly when no step failed for good, every effect applied once;
 * otherwise every effect undone, the compensations sent in reverse order.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultPoint, type FaultPointName } from "../../src/consistency/fault-hook.js";
import type { SagaDefinition } from "../../src/consistency/saga-definition.js";
import { finalSagaStatuses } from "../../src/consistency/saga-runner.js";
import { FakeLedger } from "./fake-ledger.js";
import { propertyParameters, propertyTimeoutMs } from "./property-runs.js";
import { ledgerSaga, testRunner } from "./saga-fixtures.js";
import { storeKinds, type TestStore } from "./test-stores.js";

interface Scenario {
  n: number;
  failStep: number;
  transient: number[];
  compensationTransient: number[];
  crashes: { point: FaultPointName; hit: number }[];
}

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    failStep: fc.integer({ min: 0, max: n }),
    transient: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
    compensationTransient: fc.array(fc.oneof(fc.integer({ min: 0, max: 2 }), fc.constant(9)), { minLength: n, maxLength: n }),
    crashes: fc.array(
      fc.record({
        point: fc.constantFrom(FaultPoint.sagaAfterAction, FaultPoint.sagaAfterPersist, FaultPoint.sagaAfterCompensation),
        hit: fc.integer({ min: 1, max: 4 }),
      }),
      { maxLength: 3 },
    ),
  }),
);

const kinds = await storeKinds();

describe("sagas under random failures and orchestrator crashes (PGlite)", () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await kinds[0].open();
  });
  afterAll(async () => t?.dispose());

  it("end all-committed or all-compensated, with compensations in reverse order", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        run++;
        await checkScenario(t, `p${run}`, sc);
      }),
      propertyParameters(),
    );
  }, propertyTimeoutMs());
});

async function checkScenario(t: TestStore, id: string, sc: Scenario): Promise<void> {
  const ledger = new FakeLedger();
  sc.transient.forEach((count, i) => ledger.transientFailures.set(`s${i + 1}`, count));
  sc.compensationTransient.forEach((count, i) => ledger.compensationFailures.set(`s${i + 1}`, count));
  if (sc.failStep > 0) ledger.failing.add(`s${sc.failStep}`);
  const saga = ledgerSaga("prop", sc.n, ledger) as SagaDefinition<never>;
  const crashes = [...sc.crashes];
  let begun = false;
  let retried = false;
  for (;;) {
    const crash = crashes[0];
    let seen = 0;
    let crashed = false;
    let settle = (): void => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const runner = testRunner(t.store, [saga], (p) => {
      if (crash !== undefined && p === crash.point && ++seen === crash.hit) {
        crashed = true;
        settle();
        throw new Error("crash");
      }
    });
    runner.events.on("transition", (e) => {
      if (e.sagaId === id && finalSagaStatuses.has(e.status)) settle();
    });
    if (begun) {
      await runner.start();
      // A crash after the last persist leaves the saga already final: nothing is left to resume.
      const current = await runner.status(id);
      if (current !== undefined && finalSagaStatuses.has(current.status)) settle();
    } else await runner.begin(saga, { order: id } as never, { sagaId: id });
    begun = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`saga ${id} neither crashed nor ended`)), 15_000)))]);
    clearTimeout(timer);
    await runner.stop();
    const status = (await runner.status(id))!;
    if (crashed) crashes.shift();
    else if (status.status === "needs_attention" && !retried) {
      expect(status.attentionReason).toMatch(/^compensation of step "s\d" failed: UNAVAILABLE/);
      ledger.compensationFailures.clear();
      retried = true;
      expect(await runner.retry(id)).toBe(true);
    } else if (finalSagaStatuses.has(status.status)) break;
  }
  const status = (await testRunner(t.store, [saga]).status(id))!;
  const failedAt = firstFailingStep(sc);
  const distinct = ledger.distinctCalls().map((c) => c.replace(`${id}:`, ""));
  if (failedAt === 0) {
    expect(status.status).toBe("committed");
    expect([...ledger.effects.values()]).toEqual(Array.from({ length: sc.n }, () => 1));
    expect(distinct).toEqual(Array.from({ length: sc.n }, (_, i) => `do s${i + 1}`));
  } else {
    expect(status.status).toBe("compensated");
    expect([...ledger.effects.values()].every((v) => v === 0)).toBe(true);
    expect(distinct.filter((c) => c.startsWith("do"))).toEqual(Array.from({ length: failedAt }, (_, i) => `do s${i + 1}`));
    expect(distinct.filter((c) => c.startsWith("undo"))).toEqual(Array.from({ length: failedAt }, (_, i) => `undo s${failedAt - i}`));
  }
}

/** The 1-based step that fails for good (refused, or more transient failures than the 3 attempts), 0 for none. */
function firstFailingStep(sc: Scenario): number {
  for (let i = 1; i <= sc.n; i++) if (i === sc.failStep || sc.transient[i - 1] >= 3) return i;
  return 0;
}
