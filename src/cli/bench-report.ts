import pc from "picocolors";
import type { BenchResult } from "./bench-runner.js";

/** What the report says the run was. */
export interface BenchSetup {
  /** The target as typed. */
  readonly target: string;
  /** `pkg.Service/Method`. */
  readonly method: string;
  /** Calls in flight at once. */
  readonly concurrency: number;
}

/** The machine-readable report of `ferry bench --json`: one JSON object, times in ms. */
export interface BenchJson {
  readonly target: string;
  readonly method: string;
  readonly concurrency: number;
  readonly totalCalls: number;
  readonly durationMs: number;
  /** Calls finished per second. */
  readonly callsPerSecond: number;
  readonly latencyMs: { fastest: number; slowest: number; average: number; p50: number; p90: number; p99: number; p999: number };
  /** Ten equal-width buckets from fastest to slowest. */
  readonly histogram: { upToMs: number; count: number }[];
  /** Calls by status code name; the counts add up to `totalCalls`. */
  readonly statusCodes: Record<string, number>;
  /** Failed calls by `CODE: message`. */
  readonly errors: Record<string, number>;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The `--json` report. */
export function benchJson(setup: BenchSetup, result: BenchResult): BenchJson {
  const s = result.latencies.summary();
  return {
    ...setup,
    totalCalls: result.totalCalls,
    durationMs: round(result.durationMs),
    callsPerSecond: result.durationMs > 0 ? Math.round((result.totalCalls / result.durationMs) * 1000 * 10) / 10 : 0,
    latencyMs: { fastest: round(s.fastestMs), slowest: round(s.slowestMs), average: round(s.averageMs), p50: round(s.p50Ms), p90: round(s.p90Ms), p99: round(s.p99Ms), p999: round(s.p999Ms) },
    histogram: result.latencies.histogram().map((b) => ({ upToMs: round(b.upToMs), count: b.count })),
    statusCodes: Object.fromEntries(result.statusCounts),
    errors: Object.fromEntries(result.errorCounts),
  };
}

/** A duration for people: `812 µs`, `12.34 ms`, `1.52 s`. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms.toFixed(2)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/**
 * The report for people, like ghz's: summary, histogram, latency
 * distribution, status codes and errors. Colours only when `color` is true
 * (stdout is a terminal).
 */
export function benchText(setup: BenchSetup, result: BenchResult, color: boolean): string {
  const c = pc.createColors(color);
  const j = benchJson(setup, result);
  const lines = [
    c.bold("Summary:"),
    `  Method:       ${setup.method} on ${setup.target}`,
    `  Concurrency:  ${setup.concurrency}`,
    `  Count:        ${j.totalCalls}`,
    `  Total:        ${formatMs(j.durationMs)}`,
    `  Slowest:      ${formatMs(j.latencyMs.slowest)}`,
    `  Fastest:      ${formatMs(j.latencyMs.fastest)}`,
    `  Average:      ${formatMs(j.latencyMs.average)}`,
    `  Calls/sec:    ${j.callsPerSecond}`,
    "",
    c.bold("Response time histogram:"),
    ...histogramLines(j.histogram),
    "",
    c.bold("Latency distribution:"),
    ...(["p50", "p90", "p99", "p999"] as const).map((p) => `  ${p === "p999" ? "99.9" : p.slice(1)} % in ${formatMs(j.latencyMs[p])}`),
    "",
    c.bold("Status code distribution:"),
    ...Object.entries(j.statusCodes).map(([code, n]) => `  ${(code === "OK" ? c.green : c.red)(`[${code}]`)} ${n} responses`),
  ];
  const errors = Object.entries(j.errors).sort((a, b) => b[1] - a[1]);
  if (errors.length > 0) lines.push("", c.bold("Error distribution:"), ...errors.map(([text, n]) => `  [${n}] ${text}`));
  return `${lines.join("\n")}\n`;
}

const BAR_WIDTH = 40;

function histogramLines(buckets: BenchJson["histogram"]): string[] {
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const labels = buckets.map((b) => formatMs(b.upToMs));
  const labelWidth = Math.max(0, ...labels.map((l) => l.length));
  const countWidth = Math.max(0, ...buckets.map((b) => String(b.count).length));
  return buckets.map((b, i) => `  ${labels[i].padStart(labelWidth)} [${String(b.count).padStart(countWidth)}] |${"∎".repeat(Math.round((b.count / max) * BAR_WIDTH))}`);
}
