/**
 * How many runs each fast-check property makes: 200 by default (CI), or
 * `FERRY_PROPERTY_RUNS` (e.g. `FERRY_PROPERTY_RUNS=10000 npx vitest run
 * test/consistency/*.property.spec.ts` for a long search). A failing run
 * prints its seed and path; replay it with `FERRY_PROPERTY_SEED` and `FERRY_PROPERTY_PATH`.
 */
import type { Parameters } from "fast-check";

export function propertyParameters<T>(): Parameters<T> {
  const numRuns = Number(process.env.FERRY_PROPERTY_RUNS ?? 200);
  const seed = process.env.FERRY_PROPERTY_SEED;
  return {
    numRuns,
    ...(seed !== undefined ? { seed: Number(seed), path: process.env.FERRY_PROPERTY_PATH } : {}),
  };
}

/** Per-test timeout scaled to the number of runs (about 60 ms a run, at least 60 s). */
export function propertyTimeoutMs(): number {
  return Math.max(60_000, Number(process.env.FERRY_PROPERTY_RUNS ?? 200) * 60);
}
