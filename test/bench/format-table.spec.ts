import { describe, expect, it } from "vitest";
import { formatCpu, formatRate, formatRatio, formatTable, summarize, type TableRow } from "../../bench/lib/format-table.js";
import { median } from "../../bench/lib/stats.js";
import { findWorkload } from "../../bench/lib/workloads.js";

const seq = findWorkload("unary-seq")!;
const many = findWorkload("unary-64")!;

function row(contender: string, reference: string, rate: number, p50Us?: number): TableRow {
  return { contender, reference, summary: { status: "ok", rate, ...(p50Us !== undefined ? { p50Us, p99Us: p50Us * 3 } : {}), maxRssKiB: 50 * 1024 } };
}

function cellsOf(table: string, contender: string): string[] {
  const line = table.split("\n").find((l) => l.startsWith(`| ${contender} |`));
  if (line === undefined) throw new Error(`no row for ${contender}`);
  return line.split("|").slice(1, -1).map((c) => c.trim());
}

describe("bench format-table", () => {
  describe("formatTable()", () => {
    it("divides each rate by grpc-js's and by the row's raw reference", () => {
      const rows = [row("raw-h2", "raw-h2", 12_000), row("grpc-js", "raw-h2", 6_000), row("ferry-grpc", "raw-h2", 9_600)];
      const cells = cellsOf(formatTable(many, rows, "grpc-js"), "ferry-grpc");
      expect(cells).toEqual(["ferry-grpc", "9.60k", "1.60×", "0.80× raw-h2", "—", "50 MiB", ""]);
    });

    it("adds p50/p99 and the p50 ratio to the reference for latency workloads", () => {
      const rows = [row("raw-tcp", "raw-tcp", 34_000, 20), row("grpc-js", "raw-h2", 5_000, 124), row("ferry-native-tcp", "raw-tcp", 20_000, 35)];
      const cells = cellsOf(formatTable(seq, rows, "grpc-js"), "ferry-native-tcp");
      expect(cells.slice(0, 7)).toEqual(["ferry-native-tcp", "20.0k", "35 µs", "105 µs", "4.00×", "0.59× raw-tcp", "1.75× raw-tcp"]);
    });

    it("keeps a row with the reason for a skipped contender and dashes for missing ratios", () => {
      const rows: TableRow[] = [row("raw-tcp", "raw-tcp", 100_000), { contender: "ferry-native-unix", reference: "raw-tcp", summary: { status: "skipped", reason: "not available yet" } }];
      const table = formatTable(many, rows, "grpc-js");
      expect(cellsOf(table, "ferry-native-unix").at(-1)).toBe("skipped: not available yet");
      expect(cellsOf(table, "raw-tcp")[2]).toBe("—");
    });
  });

  describe("summarize()", () => {
    it("takes the median of the runs", () => {
      const s = summarize({ status: "ok", maxRssKiB: 1, runs: [10, 30, 20].map((rate) => ({ count: rate, elapsedMs: 1000, rate })) });
      expect(s).toMatchObject({ status: "ok", rate: 20 });
    });
  });

  describe("formatCpu()", () => {
    it("shows server / client µs, one figure for a same-process contender, a dash without figures", () => {
      expect([formatCpu({ server: 3.21, client: 14.56 }), formatCpu({ server: undefined, client: 1.234 }), formatCpu(undefined)]).toEqual(["3.21 / 14.6", "1.23 (one process)", "—"]);
    });
  });

  describe("formatRate() and formatRatio()", () => {
    it("uses three significant digits and marks missing values", () => {
      expect([formatRate(950), formatRate(12_345), formatRate(3_040_000)]).toEqual(["950", "12.3k", "3.04M"]);
      expect([formatRatio(17.25, 1), formatRatio(1, 0), formatRatio(undefined, 1)]).toEqual(["17.3×", "—", "—"]);
      expect(median([4, 1, 3, 2])).toBe(2.5);
    });
  });
});
