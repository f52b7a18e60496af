import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { canPin } from "./child-processes.js";
import { CLIENT_CORE, SERVER_CORE } from "./run-pair.js";

/** The conditions a benchmark ran under, written above its tables. */
export interface Conditions {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly date: string;
  readonly runs: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly pinning: string;
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
    return line?.split(":")[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Reads this machine's conditions (Node version, CPU model from /proc/cpuinfo, cores, UTC date). */
export function readConditions(settings: { runs: number; seconds: number; warmupSeconds: number }): Conditions {
  return {
    node: process.version,
    cpu: cpuModel(),
    cores: availableParallelism(),
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    ...settings,
    pinning: canPin
      ? `server on core ${SERVER_CORE}, client on core ${CLIENT_CORE} (taskset); same-process contenders on core ${SERVER_CORE}`
      : "not pinned (taskset missing or fewer than 2 cores)",
  };
}

/** The conditions as a markdown list. */
export function formatConditions(c: Conditions): string {
  return [
    `- Date: ${c.date}`,
    `- Node ${c.node}; CPU: ${c.cpu}; ${c.cores} cores`,
    `- Pinning: ${c.pinning}`,
    `- Median of ${c.runs} run(s) × ${c.seconds} s, after ${c.warmupSeconds} s of warm-up per contender and workload`,
  ].join("\n");
}
