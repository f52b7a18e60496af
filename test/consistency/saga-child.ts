/**
 * A saga orchestrator process for the saga crash tests: runs (or resumes)
 * saga `sagaId` of three steps whose callee is a ledger in PostgreSQL that
 * applies each command once per idempotency key and logs every call; step
 * `failStep` (1-based, 0 for none) fails for good. Killed with SIGKILL at
 * `point`'s `hit`-th arrival; otherwise reports the final status and exits.
 * Usage: node --import tsx saga-child.ts '<json: { url, schema, sagaId, failStep, point, hit }>'
 */
import { createStore } from "../../src/consistency/create-store.js";
import type { FaultPointName } from "../../src/consistency/fault-hook.js";
import { defineSaga } from "../../src/consistency/saga-definition.js";
import { createSagaRunner } from "../../src/consistency/saga-runner.js";
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { childArgs, killAt } from "./child-support.js";

const args = childArgs<{ url: string; schema: string; sagaId: string; failStep: number; point?: FaultPointName; hit?: number }>();
const store = await createStore(args.url, { schema: args.schema, migrate: false });
const s = args.schema;

const saga = defineSaga<{ sagaId: string }>("ledger", {
  stepRetry: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2 },
  compensationRetry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 },
  steps: [1, 2, 3].map((i) => ({
    name: `s${i}`,
    action: async (ctx) => {
      await store.query(`INSERT INTO ${s}.calls (call) VALUES ($1)`, [`do ${ctx.idempotencyKey}`]);
      if (i === args.failStep) throw new FerryError(Code.FAILED_PRECONDITION, `s${i} refused`);
      await store.query(`INSERT INTO ${s}.ledger (key, step) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [ctx.idempotencyKey, `s${i}`]);
      return { applied: `s${i}` };
    },
    compensation: async (ctx) => {
      await store.query(`INSERT INTO ${s}.calls (call) VALUES ($1)`, [`undo ${ctx.actionKey}`]);
      await store.query(`UPDATE ${s}.ledger SET undone = true WHERE key = $1`, [ctx.actionKey]);
    },
  })),
});

const runner = createSagaRunner({ store, sagas: [saga], runnerId: `child-${args.sagaId}`, faultHook: killAt(args.point, args.hit) });
await runner.start();
await runner.begin(saga, { sagaId: args.sagaId }, { sagaId: args.sagaId });
const status = await runner.wait(args.sagaId, { pollIntervalMs: 20 });
process.send?.({ status: status.status, results: status.results });
await runner.stop();
await store.close();
process.disconnect?.();
