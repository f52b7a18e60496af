import { UsageError, type BenchOptions } from "../lib/options.js";
import type { MessagingContender } from "./contender.js";
import { ADAPTERS, MESSAGING_CONTENDERS } from "./contenders.js";

/** The cases of the messaging suite. */
export const CASES = ["publish", "e2e"] as const;
/** One of {@link CASES}. */
export type CaseName = (typeof CASES)[number];

/**
 * Options of one messaging benchmark run; `runs`, `seconds`,
 * `warmupSeconds`, `writeDocs` and `note` mean what they mean for the RPC
 * suite (same defaults).
 */
export interface MessagingOptions extends Pick<BenchOptions, "runs" | "seconds" | "warmupSeconds" | "writeDocs" | "note"> {
  /** Contenders to run, in table order. Default: all. */
  readonly contenders: readonly MessagingContender[];
  /** Cases to run. Default: both. */
  readonly cases: readonly CaseName[];
  /** Publishes in flight (`publish/*`, sustained part of `e2e/*`). Default 64. */
  readonly inFlight: number;
  /** Fixed publish rate of the latency part of `e2e/*`, msgs/s. Default 500. */
  readonly ratePerSecond: number;
  /** Sustained part of `e2e/*`: most messages published and not yet handled. Default 1000. */
  readonly maxOutstanding: number;
}

/** Usage of the messaging suite's options. */
export const MESSAGING_USAGE = `usage: npm run bench -- --suite=messaging [options]
  --adapter=NAME[,NAME]    adapters to run (default all): ${ADAPTERS.join(", ")}
  --contender=NAME[,NAME]  contenders to run (default all): ${MESSAGING_CONTENDERS.map((c) => c.name).join(", ")}
  --case=NAME[,NAME]       cases to run (default all): ${CASES.join(", ")}
  --runs=N --seconds=S --warmup=S --short --write-docs --note=TEXT   as for the RPC suite
  --in-flight=N            publishes in flight (default 64)
  --rate=R                 msgs/s of the e2e latency runs (default 500)
  --outstanding=N          e2e sustained runs: most messages published and not yet handled (default 1000)
  --help                   this text`;

function number(value: string, name: string, integer: boolean, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)) || n > max) {
    throw new UsageError(`--${name} must be a positive ${integer ? "integer" : "number"} up to ${max}, got "${value}"`);
  }
  return n;
}

function names(value: string | undefined, all: readonly string[], what: string): string[] | undefined {
  if (value === undefined) return undefined;
  const picked = value.split(",").map((n) => n.trim()).filter((n) => n !== "");
  for (const n of picked) if (!all.includes(n)) throw new UsageError(`unknown ${what} "${n}"`);
  return picked;
}

/** Parses the messaging suite's options (`--suite` already removed). Throws UsageError on a mistake; `--help` throws one with an empty message. */
export function parseMessagingOptions(argv: readonly string[]): MessagingOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (m === null) throw new UsageError(`unexpected argument "${arg}"`);
    flags.set(m[1], m[2] ?? "");
  }
  const known = ["adapter", "contender", "case", "runs", "seconds", "warmup", "short", "write-docs", "note", "in-flight", "rate", "outstanding", "help"];
  for (const k of flags.keys()) if (!known.includes(k)) throw new UsageError(`unknown option --${k} for the messaging suite`);
  if (flags.has("help")) throw new UsageError("");
  const short = flags.has("short");
  const get = (k: string): string | undefined => (flags.get(k) === "" ? undefined : flags.get(k));
  const adapters = names(get("adapter"), ADAPTERS, "adapter");
  const contenderNames = names(get("contender"), MESSAGING_CONTENDERS.map((c) => c.name), "contender");
  return {
    contenders: MESSAGING_CONTENDERS.filter((c) => (adapters?.includes(c.adapter) ?? true) && (contenderNames?.includes(c.name) ?? true)),
    cases: (names(get("case"), CASES, "case") as CaseName[] | undefined) ?? [...CASES],
    runs: get("runs") ? number(get("runs")!, "runs", true, 100) : short ? 1 : 3,
    seconds: get("seconds") ? number(get("seconds")!, "seconds", false, 600) : short ? 1 : 5,
    warmupSeconds: get("warmup") ? number(get("warmup")!, "warmup", false, 600) : short ? 0.5 : 2,
    inFlight: get("in-flight") ? number(get("in-flight")!, "in-flight", true, 10_000) : 64,
    ratePerSecond: get("rate") ? number(get("rate")!, "rate", false, 100_000) : 500,
    maxOutstanding: get("outstanding") ? number(get("outstanding")!, "outstanding", true, 100_000) : 1000,
    writeDocs: flags.has("write-docs"),
    note: get("note"),
  };
}
