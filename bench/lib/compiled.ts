import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The benchmark's child processes run Ferry as users run it: JavaScript
 * compiled by `tsc`, not TypeScript through tsx. tsx transpiles with
 * esbuild's `keepNames`, which wraps every named closure in a `__name()`
 * call (an `Object.defineProperty` each time the closure is created): code
 * that creates closures per call pays for it, while the peers, compiled
 * JavaScript in node_modules, do not.
 *
 * {@link compileBench} compiles `bench/` and what it imports (tsconfig.bench.json)
 * into `build/bench-js/`, mirroring the repository's layout so that relative
 * imports and `node_modules` resolve as from the sources.
 */

/** The repository root (the directory holding package.json), found from this file in either tree. */
export const REPO_ROOT: string = findRoot(dirname(fileURLToPath(import.meta.url)));
/** Where the compiled tree goes. */
export const COMPILED_DIR = join(REPO_ROOT, "build", "bench-js");
/** True when this module itself runs compiled (inside {@link COMPILED_DIR}). */
export const RUNNING_COMPILED: boolean = fileURLToPath(import.meta.url).endsWith(".js");
/** The file extension of the modules of the tree this process runs: `.js` compiled, `.ts` from sources. */
export const MODULE_EXT: ".js" | ".ts" = RUNNING_COMPILED ? ".js" : ".ts";

function findRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "package.json")) && existsSync(join(d, "bench"))) return d;
    if (dirname(d) === d) throw new Error(`bench: no repository root above ${dir}`);
  }
}

/** Absolute path of `relPath` (relative to the repository root) in the source tree. */
export function repoPath(relPath: string): string {
  return join(REPO_ROOT, relPath);
}

/** The compiled counterpart of the source file `tsPath` (absolute, under the repository root). */
export function compiledPath(tsPath: string): string {
  return join(COMPILED_DIR, relative(REPO_ROOT, tsPath)).replace(/\.ts$/, ".js");
}

/**
 * Compiles the benchmark with the repository's TypeScript (`tsc -p
 * tsconfig.bench.json`, a few seconds). Throws with tsc's output when it
 * reports errors.
 */
export function compileBench(): void {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(REPO_ROOT, "tsconfig.bench.json")], { encoding: "utf8" });
  if (r.status === 0) return;
  // tsc still emits JavaScript on type errors; FERRY_BENCH_ALLOW_TYPE_ERRORS=1 runs it anyway (a tree shared with work in progress elsewhere).
  if (process.env.FERRY_BENCH_ALLOW_TYPE_ERRORS === "1" && r.status === 2) {
    process.stderr.write(`bench: tsc reported type errors, running the emitted JavaScript anyway (FERRY_BENCH_ALLOW_TYPE_ERRORS=1):\n${r.stdout}${r.stderr}`);
    return;
  }
  throw new Error(`bench: tsc -p tsconfig.bench.json failed:\n${r.stdout}${r.stderr}`);
}
