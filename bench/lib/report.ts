import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { formatConditions, type Conditions } from "./conditions.js";

/** Where the latest run's report goes (gitignored). */
export const LATEST_PATH = fileURLToPath(new URL("../results/latest.md", import.meta.url));
/** The committed benchmark page; `--write-docs` replaces its results section. */
export const DOCS_PATH = fileURLToPath(new URL("../../docs/benchmarks.md", import.meta.url));
/** Markers around the generated results section in docs/benchmarks.md. */
export const RESULTS_START = "<!-- bench:results:start -->";
export const RESULTS_END = "<!-- bench:results:end -->";

/** The results section: an optional note, the conditions, then one table per workload. */
export function formatResults(conditions: Conditions, tables: readonly { title: string; table: string }[], note: string | undefined): string {
  const parts = [];
  if (note !== undefined) parts.push(`> **${note}**`);
  parts.push(formatConditions(conditions));
  for (const t of tables) parts.push(`### ${t.title}\n\n${t.table}`);
  return parts.join("\n\n");
}

/** Writes bench/results/latest.md. */
export function writeLatest(results: string): void {
  mkdirSync(dirname(LATEST_PATH), { recursive: true });
  writeFileSync(LATEST_PATH, `# Ferry benchmark: latest run\n\n${results}\n`);
}

/** Replaces the results section between the markers of docs/benchmarks.md (appends one when missing). */
export function writeDocs(results: string): void {
  const section = `${RESULTS_START}\n${results}\n${RESULTS_END}`;
  const current = existsSync(DOCS_PATH) ? readFileSync(DOCS_PATH, "utf8") : "# Benchmarks\n";
  const start = current.indexOf(RESULTS_START);
  const end = current.indexOf(RESULTS_END);
  const next = start >= 0 && end > start
    ? current.slice(0, start) + section + current.slice(end + RESULTS_END.length)
    : `${current.trimEnd()}\n\n## Results\n\n${section}\n`;
  writeFileSync(DOCS_PATH, next);
}
