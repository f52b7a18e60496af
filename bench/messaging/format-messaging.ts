import { formatMicros, formatRate, formatRatio } from "../lib/format-table.js";
import type { CaseOutcome, E2eFigures, PublishFigures } from "./cases.js";

/** One contender's line in a case's table. */
export interface MessagingRow<T> {
  readonly contender: string;
  /** Its raw reference; undefined when the adapter has none. */
  readonly reference: string | undefined;
  readonly outcome: CaseOutcome<T>;
}

function ok<T>(rows: readonly MessagingRow<T>[], name: string | undefined): T | undefined {
  const o = rows.find((r) => r.contender === name)?.outcome;
  return o?.status === "ok" ? o.figures : undefined;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function table(head: readonly string[], lines: readonly string[][]): string {
  const align = head.map((_, i) => (i === 0 || i === head.length - 1 ? "---" : "---:"));
  return [`| ${head.join(" | ")} |`, `|${align.join("|")}|`, ...lines.map((l) => `| ${l.join(" | ")} |`)].join("\n");
}

function failedLine(contender: string, width: number, outcome: { status: string; reason: string }): string[] {
  return [contender, ...Array<string>(width - 2).fill("—"), `${outcome.status}: ${escapeCell(outcome.reason)}`];
}

/** `publish/<adapter>`: confirmed publishes per second and the ratio to the raw reference. */
export function formatPublishTable(rows: readonly MessagingRow<PublishFigures>[], note: string): string {
  const head = ["contender", "msgs/s", "× raw reference", "note"];
  const lines = rows.map((row) => {
    if (row.outcome.status !== "ok") return failedLine(row.contender, head.length, row.outcome);
    const ref = ok(rows, row.reference);
    const ratio = row.reference === undefined ? "—" : `${formatRatio(row.outcome.figures.rate, ref?.rate)} ${row.reference}`;
    return [row.contender, formatRate(row.outcome.figures.rate), ratio, row.reference === undefined ? escapeCell(note) : ""];
  });
  return table(head, lines);
}

/** `e2e/<adapter>`: latency at the fixed rate, sustained throughput, ratios to the raw reference. */
export function formatE2eTable(rows: readonly MessagingRow<E2eFigures>[], note: string): string {
  const head = ["contender", "p50", "p99", "handled msgs/s (paced)", "p50 ÷ raw p50", "p99 ÷ raw p99", "sustained msgs/s", "× raw reference", "note"];
  const lines = rows.map((row) => {
    if (row.outcome.status !== "ok") return failedLine(row.contender, head.length, row.outcome);
    const f = row.outcome.figures;
    const ref = ok(rows, row.reference);
    const vs = (text: string): string => (row.reference === undefined ? "—" : `${text} ${row.reference}`);
    const notes = [
      ...(row.reference === undefined ? [note] : []),
      ...(f.foreign > 0 ? [`${f.foreign} redeliveries of earlier runs`] : []),
      ...(f.skipped > 0 ? [`${f.skipped} paced publishes skipped (1000 unconfirmed)`] : []),
    ];
    return [
      row.contender,
      formatMicros(f.p50Us),
      formatMicros(f.p99Us),
      formatRate(f.pacedRate),
      vs(formatRatio(f.p50Us, ref?.p50Us)),
      vs(formatRatio(f.p99Us, ref?.p99Us)),
      formatRate(f.sustainedRate),
      vs(formatRatio(f.sustainedRate, ref?.sustainedRate)),
      escapeCell(notes.join("; ")),
    ];
  });
  return table(head, lines);
}

/** One adapter's Ferry-over-raw ratios for the summary table. */
export interface SummaryLine {
  readonly adapter: string;
  readonly publish: MessagingRow<PublishFigures>[];
  readonly e2e: MessagingRow<E2eFigures>[];
}

/** Summary: per adapter, Ferry ÷ raw for publish rate, e2e p50 and p99, sustained rate. */
export function formatSummaryTable(lines: readonly SummaryLine[], noRaw: string): string {
  const head = ["adapter", "publish msgs/s × raw", "e2e p50 ÷ raw p50", "e2e p99 ÷ raw p99", "sustained msgs/s × raw", "note"];
  const cells = lines.map((l) => {
    const ferry = `ferry-${l.adapter}`;
    const raw = `raw-${l.adapter}`;
    const fp = ok(l.publish, ferry);
    const rp = ok(l.publish, raw);
    const fe = ok(l.e2e, ferry);
    const re = ok(l.e2e, raw);
    const hasRaw = l.publish.some((r) => r.contender === raw) || l.e2e.some((r) => r.contender === raw);
    return [l.adapter, formatRatio(fp?.rate, rp?.rate), formatRatio(fe?.p50Us, re?.p50Us), formatRatio(fe?.p99Us, re?.p99Us), formatRatio(fe?.sustainedRate, re?.sustainedRate), hasRaw ? "" : escapeCell(noRaw)];
  });
  return table(head, cells);
}
