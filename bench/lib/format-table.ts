import type { CpuPerUnit, PairOutcome } from "./run-pair.js";
import { median } from "./stats.js";
import { rateUnit, type Workload } from "./workloads.js";

/** One contender's line in a workload's table: the medians of its runs, or why it has none. */
export type RowSummary =
  | { status: "ok"; rate: number; p50Us?: number; p99Us?: number; maxRssKiB?: number; cpu?: CpuPerUnit }
  | { status: "skipped" | "error"; reason: string };

/** A row to format: the contender, its raw reference, and its summary. */
export interface TableRow {
  readonly contender: string;
  readonly reference: string;
  readonly summary: RowSummary;
}

/** Medians of a pair's runs (rate, p50, p99), with the server's peak RSS. */
export function summarize(outcome: PairOutcome): RowSummary {
  if (outcome.status !== "ok") return outcome;
  const { runs } = outcome;
  const p50s = runs.flatMap((r) => (r.p50Us === undefined ? [] : [r.p50Us]));
  const p99s = runs.flatMap((r) => (r.p99Us === undefined ? [] : [r.p99Us]));
  return {
    status: "ok",
    rate: median(runs.map((r) => r.rate)),
    ...(p50s.length > 0 ? { p50Us: median(p50s), p99Us: median(p99s) } : {}),
    ...(outcome.maxRssKiB !== undefined ? { maxRssKiB: outcome.maxRssKiB } : {}),
    ...(outcome.cpu !== undefined ? { cpu: outcome.cpu } : {}),
  };
}

/** `3.2 / 4.8` (server / client µs); `7.9 (one process)` for a same-process contender; `—` without figures. */
export function formatCpu(cpu: CpuPerUnit | undefined): string {
  if (cpu === undefined) return "—";
  const us = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  return cpu.server === undefined ? `${us(cpu.client)} (one process)` : `${us(cpu.server)} / ${us(cpu.client)}`;
}

/** `12.3k`, `1.23M`, `950`: three significant digits. */
export function formatRate(n: number): string {
  if (!Number.isFinite(n)) return "—";
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (n >= 1e3) return `${(n / 1e3).toPrecision(3)}k`;
  return n.toFixed(0);
}

/** `94 µs`, `1.25 ms`. */
export function formatMicros(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us)) return "—";
  return us >= 1000 ? `${(us / 1000).toPrecision(3)} ms` : `${us.toFixed(0)} µs`;
}

/** `0.54×`, `17.3×`; `—` when either side is missing. */
export function formatRatio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "—";
  const r = a / b;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

function ok(rows: readonly TableRow[], name: string): Extract<RowSummary, { status: "ok" }> | undefined {
  const s = rows.find((r) => r.contender === name)?.summary;
  return s?.status === "ok" ? s : undefined;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/**
 * The markdown table of one workload: rate (calls/s or msgs/s), p50/p99 for
 * latency workloads, the ratio to `baseline` (grpc-js) and to each row's raw
 * reference (for latency workloads also p50 over the reference's p50), the
 * CPU µs per call (or message) on each side over the timed runs, and the
 * server's peak RSS. Skipped and failed contenders keep a row with the reason.
 */
export function formatTable(workload: Workload, rows: readonly TableRow[], baseline: string): string {
  const unit = rateUnit(workload);
  const cpuHead = `CPU µs per ${workload.kind === "stream" ? "message" : "call"}, server / client`;
  const head = ["contender", unit, ...(workload.latency ? ["p50", "p99"] : []), `× ${baseline}`, "× raw reference", ...(workload.latency ? ["p50 ÷ reference p50"] : []), cpuHead, "server peak RSS", "note"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 0 || i === head.length - 1 ? "---" : "---:")).join("|")}|`];
  const base = ok(rows, baseline);
  for (const row of rows) {
    const s = row.summary;
    if (s.status !== "ok") {
      const dashes = head.length - 2;
      lines.push(`| ${row.contender} | ${Array(dashes).fill("—").join(" | ")} | ${s.status}: ${escapeCell(s.reason)} |`);
      continue;
    }
    const ref = ok(rows, row.reference);
    const cells = [
      row.contender,
      formatRate(s.rate),
      ...(workload.latency ? [formatMicros(s.p50Us), formatMicros(s.p99Us)] : []),
      formatRatio(s.rate, base?.rate),
      `${formatRatio(s.rate, ref?.rate)} ${row.reference}`,
      ...(workload.latency ? [`${formatRatio(s.p50Us, ref?.p50Us)} ${row.reference}`] : []),
      formatCpu(s.cpu),
      s.maxRssKiB === undefined ? "—" : `${(s.maxRssKiB / 1024).toFixed(0)} MiB`,
      "",
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
