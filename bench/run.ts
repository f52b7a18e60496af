import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killAll } from "./lib/child-processes.js";
import { readConditions } from "./lib/conditions.js";
import { BASELINE, missingFilesReason } from "./lib/contenders.js";
import { formatTable, summarize, type TableRow } from "./lib/format-table.js";
import { compileBench } from "./lib/compiled.js";
import { parseOptions, USAGE, UsageError, type BenchOptions } from "./lib/options.js";
import { DOCS_PATH, formatResults, LATEST_PATH, writeDocs, writeLatest } from "./lib/report.js";
import { runPair, type PairOutcome } from "./lib/run-pair.js";
import { MESSAGING_CONTENDERS } from "./messaging/contenders.js";
import { MESSAGING_USAGE, parseMessagingOptions } from "./messaging/options.js";
import { runMessaging } from "./messaging/run-messaging.js";
import { splitSuite, type Suite } from "./messaging/suite.js";
import { runConsistency, takeConsistencySuite } from "./consistency/run-consistency.js";

/**
 * The RPC suite: runs every selected contender on every selected workload
 * (server and client in separate processes pinned to separate cores), prints
 * one markdown table per workload and writes bench/results/latest.md (and
 * docs/benchmarks.md with --write-docs). Exits with 1 when a contender
 * failed (skipped ones do not count), 2 on a bad option. See docs/benchmarks.md.
 */
async function runAll(options: BenchOptions, socketDir: string): Promise<{ title: string; table: string }[]> {
  const settings = { runs: options.runs, seconds: options.seconds, warmupSeconds: options.warmupSeconds, socketDir };
  const skipped = new Map<string, string>();
  for (const c of options.contenders) {
    const reason = missingFilesReason(c);
    if (reason !== undefined) skipped.set(c.name, reason);
  }
  const tables = [];
  for (const workload of options.workloads) {
    const rows: TableRow[] = [];
    for (const contender of options.contenders) {
      const known = skipped.get(contender.name);
      process.stderr.write(`bench: ${workload.name} × ${contender.name} … `);
      const outcome: PairOutcome = known !== undefined ? { status: "skipped", reason: known } : await runPair(contender, workload, settings);
      if (outcome.status === "skipped") skipped.set(contender.name, outcome.reason);
      if (outcome.status === "error") process.exitCode = 1;
      const summary = summarize(outcome);
      process.stderr.write(summary.status === "ok" ? `${summary.rate.toFixed(0)}/s\n` : `${summary.status}: ${summary.reason}\n`);
      rows.push({ contender: contender.name, reference: contender.reference, summary });
    }
    tables.push({ title: `${workload.name}: ${workload.title}`, table: formatTable(workload, rows, BASELINE) });
  }
  return tables;
}

/**
 * `npm run bench`: the RPC suite (below) and the messaging suite
 * (bench/messaging/run-messaging.ts), both by default, one with
 * `--suite=rpc|messaging` (see bench/messaging/suite.ts). Every option is
 * checked before anything runs.
 */
async function main(): Promise<void> {
  let suites: Suite[];
  let options: BenchOptions | undefined;
  let rest: string[];
  const consistency = takeConsistencySuite(process.argv.slice(2)); // --suite=consistency: bench/consistency/run-consistency.ts
  if (consistency.consistency === "only") return void (process.exitCode = await runConsistency(consistency.own));
  try {
    ({ suites, rest } = splitSuite(consistency.argv, MESSAGING_CONTENDERS.map((c) => c.name)));
    if (suites.includes("rpc")) options = parseOptions(rest);
    if (suites.includes("messaging")) parseMessagingOptions(rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message !== "") process.stderr.write(`bench: ${err.message}\n`);
    process.stderr.write(`${USAGE}\n  --suite=rpc|messaging|consistency|all  suites to run (default all; see below and bench/consistency/run-consistency.ts)\n\n${MESSAGING_USAGE}\n`);
    process.exit(err.message === "" ? 0 : 2);
  }
  if (options !== undefined) await runRpc(options);
  if (suites.includes("messaging")) {
    const code = await runMessaging(rest);
    if (code !== 0) process.exitCode = code;
  }
  if (consistency.consistency === "also" && suites.length === 2) {
    const code = await runConsistency(consistency.own);
    if (code !== 0) process.exitCode = code;
  }
}

async function runRpc(options: BenchOptions): Promise<void> {
  const socketDir = mkdtempSync(join(tmpdir(), "ferry-bench-"));
  process.on("exit", () => rmSync(socketDir, { recursive: true, force: true }));
  try {
    process.stderr.write("bench: compiling bench/ with tsc (children run compiled JavaScript, see bench/lib/compiled.ts)\n");
    compileBench();
    const conditions = readConditions({ runs: options.runs, seconds: options.seconds, warmupSeconds: options.warmupSeconds });
    const tables = await runAll(options, socketDir);
    const results = formatResults(conditions, tables, options.note);
    process.stdout.write(`\n${results}\n`);
    writeLatest(results);
    process.stderr.write(`bench: wrote ${LATEST_PATH}\n`);
    if (options.writeDocs) {
      writeDocs(results);
      process.stderr.write(`bench: wrote ${DOCS_PATH}\n`);
    }
  } finally {
    killAll();
  }
}

main().catch((err: unknown) => {
  killAll();
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
