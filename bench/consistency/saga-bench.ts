/**
 * Saga benchmark (issue 14): the latency a saga step adds over a plain
 * call — a one-step saga `runner.run` (persist the start, run the action,
 * persist its result and the commit) against calling the action directly,
 * on PostgreSQL and PGlite. Part of `npm run bench -- --suite=consistency`; alone:
 *   npm run bench:saga -- [iterations=200]
 */
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { createStore } from "../../src/consistency/create-store.js";
import { defineSaga } from "../../src/consistency/saga-definition.js";
import { createSagaRunner } from "../../src/consistency/saga-runner.js";
import type { SqlStore } from "../../src/consistency/sql-store.js";
import { benchSchema, postgresUrl, quietLogger } from "./bench-env.js";

/** One store's saga figures (medians). */
export interface SagaFigures {
  readonly store: "postgres" | "pglite";
  readonly plainCallP50Us: number;
  readonly sagaP50Us: number;
}

const action = async (): Promise<{ ok: boolean }> => ({ ok: true });

function p50(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}

async function measure(store: SqlStore, iterations: number): Promise<{ plain: number; saga: number }> {
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
  return { plain: p50(plain) * 1000, saga: p50(viaSaga) * 1000 };
}

/** Runs the saga benchmark, `iterations` sagas per store (a PostgreSQL schema of its own, dropped afterwards). */
export async function benchSaga(iterations = 200): Promise<SagaFigures[]> {
  const schema = benchSchema();
  const pg = await createStore(postgresUrl, { schema });
  const lite = await createStore("pglite:", { schema: "ferry" });
  try {
    const out: SagaFigures[] = [];
    for (const [name, store] of [["postgres", pg], ["pglite", lite]] as const) {
      const m = await measure(store, iterations);
      out.push({ store: name, plainCallP50Us: m.plain, sagaP50Us: m.saga });
    }
    return out;
  } finally {
    await pg.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await pg.close();
    await lite.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const m of await benchSaga(Number(process.argv[2] ?? 200))) {
    console.log(`${m.store}: plain call p50 ${m.plainCallP50Us.toFixed(1)} µs, one-step saga p50 ${(m.sagaP50Us / 1000).toFixed(2)} ms (adds ${((m.sagaP50Us - m.plainCallP50Us) / 1000).toFixed(2)} ms)`);
  }
}
