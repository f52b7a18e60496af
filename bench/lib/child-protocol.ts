import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { RunResult } from "./load.js";

/**
 * The line protocol between the runner and its child processes. A child
 * writes one JSON message per stdout line, prefixed with {@link MARKER} so
 * that anything else a library prints is ignored. The runner writes `stop`
 * to a server's stdin; a child exits when its stdin closes (the runner died).
 */

/** Prefix of every protocol line. */
export const MARKER = "@@bench ";

/** A message from a child process. */
export type ChildMessage =
  | { type: "ready"; address: string }
  | { type: "skip"; reason: string }
  | { type: "error"; message: string }
  | { type: "result"; runs: RunResult[]; maxRssKiB?: number; cpuMicros?: number }
  | { type: "stopped"; maxRssKiB: number; cpuMicros?: number }
  /** The client finished its warm-up: the runner marks the server's CPU time (`cpu` on its stdin). */
  | { type: "warm" }
  /** A server's answer to `cpu`: its CPU time so far. */
  | { type: "cpu"; micros: number };

/** Writes `message` to stdout as one protocol line. */
export function send(message: ChildMessage): void {
  process.stdout.write(MARKER + JSON.stringify(message) + "\n");
}

/** Calls `onMessage` for every protocol line read from `stream`. */
export function readMessages(stream: Readable, onMessage: (m: ChildMessage) => void): void {
  const lines = createInterface({ input: stream });
  lines.on("line", (line) => {
    if (line.startsWith(MARKER)) onMessage(JSON.parse(line.slice(MARKER.length)) as ChildMessage);
  });
}

/** CPU time (user + system) this process used so far, in µs. */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Peak resident set size of this process so far, in KiB. */
export function maxRssKiB(): number {
  return process.resourceUsage().maxRSS;
}

/** Sends an error or skip message for `err` (a NotAvailableError becomes a skip). */
export function sendFailure(err: unknown): void {
  if (err instanceof Error && err.name === "NotAvailableError") send({ type: "skip", reason: err.message });
  else send({ type: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}

/** Exits when stdin closes, so no child outlives the runner. */
export function exitWhenParentGoes(onLine?: (line: string) => void): void {
  const lines = createInterface({ input: process.stdin });
  if (onLine !== undefined) lines.on("line", onLine);
  lines.on("close", () => process.exit(0));
}
