/**
 * Saga micro-benchmark (issue 14): the latency a saga step adds over a
 * plain call — a one-step saga `runner.run` (persist the start, run the
 * action, persist its result and the commit) against calling the action
 * directly, on PostgreSQL and PGlite. Not a test: run it by hand, once:
 *   npx tsx test/consistency/saga-bench.ts [iterations=200]
 */
import { performance } from "node:perf_hooks";
import { createStore } from "../../src/consistency/create-store.js";
import { defineSaga } from "../../src/consistency/saga-definition.js";
import { createSagaRunner } from "../../src/consistency/saga-runner.js";
import type { SqlStore } from "../../src/consistency/sql-store.js";
import { postgresUrl, quietLogger, testSchema } from "./test-stores.js";

const iterations = Number(process.argv[2] ?? 200);
const action = async (): Promise<{ ok: boolean }> => ({ ok: true });

function p50(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}

async function measure(store: SqlStore): Promise<{ plainUs: number; sagaUs: number }> {
  const saga = defineSaga("bench", { steps: [{ name: "call", action }] });
  const runner = createSagaRunner({ store, sagas: [saga], logger: quietLogger });
  const plain: number[] = [];
  const viaSaga: number[] = [];
  for (let i = 0; i < iterations; i++) {
    let t = performance.now();
    await action();
    plain.push(performance.now() - t);
    t = performance.now();
    await runner.run(saga, { i });
    viaSaga.push(performance.now() - t);
  }
  await runner.stop();
  return { plainUs: p50(plain) * 1000, sagaUs: p50(viaSaga) * 1000 };
}

const schema = testSchema();
const pg = await createStore(postgresUrl, { schema });
const lite = await createStore("pglite:", { schema: "ferry" });
try {
  for (const [name, store] of [["postgres", pg], ["pglite", lite]] as const) {
    const m = await measure(store);
    console.log(`${name}: plain call p50 ${m.plainUs.toFixed(1)} µs, one-step saga p50 ${(m.sagaUs / 1000).toFixed(2)} ms (adds ${((m.sagaUs - m.plainUs) / 1000).toFixed(2)} ms)`);
  }
} finally {
  await pg.query(`DROP SCHEMA ${schema} CASCADE`);
  await pg.close();
  await lite.close();
}
