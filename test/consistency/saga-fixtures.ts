/** A saga of `n` steps over a {@link FakeLedger}, and a runner factory, for the saga tests. */
import { defineSaga, type SagaDefinition } from "../../src/consistency/saga-definition.js";
import { createSagaRunner, type SagaRunner } from "../../src/consistency/saga-runner.js";
import type { FaultHook } from "../../src/consistency/fault-hook.js";
import type { SqlStore } from "../../src/consistency/sql-store.js";
import type { FakeLedger } from "./fake-ledger.js";
import { quietLogger } from "./test-stores.js";

/** Steps `s1` … `sN`, each applying and undoing itself on `ledger`, fast retries. */
export function ledgerSaga(name: string, n: number, ledger: FakeLedger): SagaDefinition<{ order: string }> {
  return defineSaga<{ order: string }>(name, {
    steps: Array.from({ length: n }, (_, i) => ({
      name: `s${i + 1}`,
      action: (ctx) => ledger.apply(`s${i + 1}`, ctx.idempotencyKey),
      compensation: (ctx) => ledger.undo(`s${i + 1}`, ctx.actionKey),
    })),
    stepTimeoutMs: 2_000,
    stepRetry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 },
    compensationRetry: { maxAttempts: 4, initialBackoffMs: 1, maxBackoffMs: 2 },
  });
}

/** A runner for `sagas` with a stable id (so a replacement resumes at once) and quiet logs. */
export function testRunner(store: SqlStore, sagas: SagaDefinition<never>[], faultHook?: FaultHook, runnerId = "runner-1"): SagaRunner {
  return createSagaRunner({ store, sagas, runnerId, leaseMs: 5_000, resumeIntervalMs: 60_000, logger: quietLogger, faultHook });
}
