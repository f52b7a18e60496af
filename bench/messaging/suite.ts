import { UsageError } from "../lib/options.js";

/** The benchmark suites `npm run bench` can run. */
export type Suite = "rpc" | "messaging";

const rpcOnly = ["workload"];
const messagingOnly = ["adapter", "case", "in-flight", "rate", "outstanding"];

function flagName(arg: string): string | undefined {
  return /^--([a-z-]+)/.exec(arg)?.[1];
}

/**
 * Takes `--suite=rpc|messaging|all` out of `argv`. Without it: an option only
 * one suite knows selects that suite (`--workload` → rpc; `--adapter`,
 * `--case`, `--in-flight`, `--rate`, `--outstanding` → messaging),
 * `--contender` selects the suite that has every named contender, otherwise
 * both run (RPC first). Throws UsageError for an unknown suite.
 */
export function splitSuite(argv: readonly string[], messagingContenders: readonly string[]): { suites: Suite[]; rest: string[] } {
  const rest = argv.filter((a) => !a.startsWith("--suite"));
  const given = argv.filter((a) => a.startsWith("--suite")).map((a) => /^--suite=(.*)$/.exec(a)?.[1] ?? "");
  if (given.length > 0) {
    const value = given[given.length - 1];
    if (value === "all") return { suites: ["rpc", "messaging"], rest };
    if (value === "rpc" || value === "messaging") return { suites: [value], rest };
    throw new UsageError(`--suite must be rpc, messaging or all, got "${value}"`);
  }
  const flags = rest.map(flagName);
  if (flags.some((f) => f !== undefined && messagingOnly.includes(f))) return { suites: ["messaging"], rest };
  if (flags.some((f) => f !== undefined && rpcOnly.includes(f))) return { suites: ["rpc"], rest };
  const contender = rest.find((a) => a.startsWith("--contender="));
  if (contender !== undefined) {
    const names = contender.slice("--contender=".length).split(",").map((n) => n.trim()).filter((n) => n !== "");
    return { suites: names.length > 0 && names.every((n) => messagingContenders.includes(n)) ? ["messaging"] : ["rpc"], rest };
  }
  return { suites: ["rpc", "messaging"], rest };
}
