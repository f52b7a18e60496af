/**
 * The benchmark workloads, as in the brief's peers table and issue 3:
 * sequential 100-byte unary, 64 unary calls in flight (100 B), 16 in flight
 * with 16 KiB payloads, and server streaming of 100-byte messages.
 */

/** One workload. */
export interface Workload {
  /** The name used by `--workload=` and in the tables. */
  readonly name: string;
  /** What it measures, for the table heading. */
  readonly title: string;
  /** `unary` calls Echo; `stream` calls ServerStream. */
  readonly kind: "unary" | "stream";
  /** Calls in flight at once (one connection or channel per client). */
  readonly concurrency: number;
  /** Payload bytes per request and per response message. */
  readonly payloadBytes: number;
  /** Whether per-call latency is recorded (p50/p99 columns). */
  readonly latency: boolean;
}

/** Messages the server sends per ServerStream call in the `stream` workload. */
export const STREAM_MESSAGES_PER_CALL = 10_000;

/** Every workload, in table order. */
export const WORKLOADS: readonly Workload[] = [
  { name: "unary-seq", title: "sequential unary, 100 B", kind: "unary", concurrency: 1, payloadBytes: 100, latency: true },
  { name: "unary-64", title: "unary, 64 in flight, 100 B", kind: "unary", concurrency: 64, payloadBytes: 100, latency: false },
  { name: "unary-16x16k", title: "unary, 16 in flight, 16 KiB", kind: "unary", concurrency: 16, payloadBytes: 16 * 1024, latency: false },
  { name: "stream", title: "server streaming, 100 B messages", kind: "stream", concurrency: 1, payloadBytes: 100, latency: false },
];

/** The workload named `name`, or undefined. */
export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}

/** The unit of a workload's rate column. */
export function rateUnit(workload: Workload): string {
  return workload.kind === "stream" ? "msgs/s" : "calls/s";
}
