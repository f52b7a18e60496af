import { CONTENDERS, findContender, type Contender } from "./contenders.js";
import { findWorkload, WORKLOADS, type Workload } from "./workloads.js";

/** Options of one `npm run bench` run. */
export interface BenchOptions {
  /** Contenders to run, in table order. Default: all. */
  readonly contenders: readonly Contender[];
  /** Workloads to run, in table order. Default: all. */
  readonly workloads: readonly Workload[];
  /** Timed runs per contender and workload; the table shows their median. Default 3 (1 with `--short`). */
  readonly runs: number;
  /** Length of one timed run, in seconds. Default 5 (1 with `--short`). */
  readonly seconds: number;
  /** Warm-up before the timed runs, in seconds. Default 2 (0.5 with `--short`). */
  readonly warmupSeconds: number;
  /** Also write docs/benchmarks.md's results section. */
  readonly writeDocs: boolean;
  /** A note printed above the tables (for example "preliminary, noisy machine"). */
  readonly note: string | undefined;
  /** Whether `--short` was given. */
  readonly short: boolean;
}

/** The usage text printed by `--help` and on a bad option. */
export const USAGE = `usage: npm run bench -- [options]
  --contender=NAME[,NAME]  contenders to run (default all): ${CONTENDERS.map((c) => c.name).join(", ")}
  --workload=NAME[,NAME]   workloads to run (default all): ${WORKLOADS.map((w) => w.name).join(", ")}
  --runs=N                 timed runs per contender and workload, median reported (default 3)
  --seconds=S              seconds per timed run (default 5)
  --warmup=S               warm-up seconds before the timed runs (default 2)
  --short                  quick check: 1 run x 1 s, 0.5 s warm-up (explicit options still win)
  --write-docs             also write the results into docs/benchmarks.md
  --note=TEXT              a note printed above the tables
  --help                   this text`;

/** A command-line mistake; the runner prints the message and {@link USAGE}. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

function pickNames<T>(value: string, find: (n: string) => T | undefined, what: string, all: readonly T[]): T[] {
  const picked = value.split(",").map((n) => n.trim()).filter((n) => n !== "");
  for (const n of picked) if (find(n) === undefined) throw new UsageError(`unknown ${what} "${n}"`);
  return all.filter((item) => picked.some((n) => find(n) === item));
}

function positive(value: string, name: string, integer: boolean): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)) || n > 3600) {
    throw new UsageError(`--${name} must be a positive ${integer ? "integer" : "number"} up to 3600, got "${value}"`);
  }
  return n;
}

/** Parses `argv` (without node and script). Throws {@link UsageError} on an unknown or malformed option. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (m === null) throw new UsageError(`unexpected argument "${arg}"`);
    flags.set(m[1], m[2] ?? "");
  }
  const known = ["contender", "workload", "runs", "seconds", "warmup", "short", "write-docs", "note", "help"];
  for (const k of flags.keys()) if (!known.includes(k)) throw new UsageError(`unknown option --${k}`);
  if (flags.has("help")) throw new UsageError("");
  const short = flags.has("short");
  const get = (k: string): string | undefined => flags.get(k);
  return {
    contenders: get("contender") ? pickNames(get("contender")!, findContender, "contender", CONTENDERS) : CONTENDERS,
    workloads: get("workload") ? pickNames(get("workload")!, findWorkload, "workload", WORKLOADS) : WORKLOADS,
    runs: get("runs") ? positive(get("runs")!, "runs", true) : short ? 1 : 3,
    seconds: get("seconds") ? positive(get("seconds")!, "seconds", false) : short ? 1 : 5,
    warmupSeconds: get("warmup") ? positive(get("warmup")!, "warmup", false) : short ? 0.5 : 2,
    writeDocs: flags.has("write-docs"),
    note: get("note") || undefined,
    short,
  };
}
