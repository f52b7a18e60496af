import { performance } from "node:perf_hooks";
import type { BenchClient } from "./contender-api.js";
import { percentileInPlace } from "./stats.js";
import { STREAM_MESSAGES_PER_CALL, type Workload } from "./workloads.js";

/**
 * The load loops: the same code drives every contender's {@link BenchClient}.
 * Every loop stops at its deadline or after {@link MAX_CALLS_PER_SECOND} ×
 * seconds calls, whichever comes first; a call in flight at the deadline is
 * awaited and counted, and the elapsed time runs until the last call ends.
 */

/** Upper bound on calls per second of run time (a safety bound, far above any contender). */
export const MAX_CALLS_PER_SECOND = 5_000_000;
/** Latency samples kept per run; later calls are counted but not sampled. */
export const MAX_LATENCY_SAMPLES = 2_000_000;

/** The outcome of one timed run. */
export interface RunResult {
  /** Completed calls (unary) or received messages (stream). */
  readonly count: number;
  /** From the first call's start to the last call's end, in milliseconds. */
  readonly elapsedMs: number;
  /** count / elapsed seconds. */
  readonly rate: number;
  /** Median call latency in microseconds (latency workloads only). */
  readonly p50Us?: number;
  /** 99th-percentile call latency in microseconds (latency workloads only). */
  readonly p99Us?: number;
}

function payloadOf(bytes: number): Uint8Array {
  const p = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) p[i] = i & 0xff;
  return p;
}

async function unaryWorker(client: BenchClient, payload: Uint8Array, endAt: number, budget: { left: number }, samples: Float64Array | undefined, counter: { n: number }): Promise<void> {
  while (budget.left > 0 && performance.now() < endAt) {
    budget.left--;
    const t0 = performance.now();
    const got = await client.unary(payload);
    if (got !== payload.length) throw new Error(`echo returned ${got} bytes, sent ${payload.length}`);
    if (samples !== undefined && counter.n < samples.length) samples[counter.n] = performance.now() - t0;
    counter.n++;
  }
}

async function streamWorker(client: BenchClient, payload: Uint8Array, endAt: number, budget: { left: number }, counter: { n: number }): Promise<void> {
  while (budget.left > 0 && performance.now() < endAt) {
    budget.left--;
    const got = await client.serverStream(STREAM_MESSAGES_PER_CALL, payload);
    if (got !== STREAM_MESSAGES_PER_CALL) throw new Error(`stream delivered ${got} messages, asked for ${STREAM_MESSAGES_PER_CALL}`);
    counter.n += got;
  }
}

/** Drives `workload` on `client` for `seconds` and returns what it measured. */
export async function runWorkload(client: BenchClient, workload: Workload, seconds: number): Promise<RunResult> {
  const payload = payloadOf(workload.payloadBytes);
  const budget = { left: Math.ceil(MAX_CALLS_PER_SECOND * seconds) };
  const counter = { n: 0 };
  const samples = workload.latency ? new Float64Array(Math.min(MAX_LATENCY_SAMPLES, budget.left)) : undefined;
  const start = performance.now();
  const endAt = start + seconds * 1000;
  const workers: Promise<void>[] = [];
  for (let i = 0; i < workload.concurrency; i++) {
    workers.push(workload.kind === "unary" ? unaryWorker(client, payload, endAt, budget, samples, counter) : streamWorker(client, payload, endAt, budget, counter));
  }
  await Promise.all(workers);
  const elapsedMs = performance.now() - start;
  const result: RunResult = { count: counter.n, elapsedMs, rate: counter.n / (elapsedMs / 1000) };
  if (samples === undefined) return result;
  const taken = samples.subarray(0, Math.min(counter.n, samples.length));
  return { ...result, p50Us: percentileInPlace(taken, 50) * 1000, p99Us: percentileInPlace(taken, 99) * 1000 };
}
