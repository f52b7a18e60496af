import type { Message } from "@bufbuild/protobuf";
import type { CallOptions } from "../rpc/call-options.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { LatencyHistogram } from "./latency-histogram.js";
import type { MethodCaller } from "./method-caller.js";

/** What {@link runBench} runs. At least one of `totalCalls` and `durationMs` bounds the run. */
export interface BenchPlan {
  /** Calls one method; each call sends `requests` and reads every response. */
  readonly caller: MethodCaller;
  /** The request messages of each call (one for unary and server streaming). */
  readonly requests: readonly Message[];
  /** Options of every call (`metadata`, `timeoutMs`). */
  readonly callOptions: CallOptions;
  /** Calls in flight at once (workers), at least 1. */
  readonly concurrency: number;
  /** Stop after this many calls. */
  readonly totalCalls?: number;
  /** Stop starting calls after this long, in ms; calls in flight then finish. */
  readonly durationMs?: number;
  /** Start at most this many calls per second, spread evenly; default unlimited. */
  readonly rps?: number;
  /** Aborts the run: no new calls start and calls in flight are cancelled. */
  readonly signal?: AbortSignal;
}

/** What {@link runBench} measured. */
export interface BenchResult {
  /** Calls made (finished, whatever their status). */
  readonly totalCalls: number;
  /** Wall time from the first call's start to the last call's end, in ms. */
  readonly durationMs: number;
  /** Latency of every call, OK or not. */
  readonly latencies: LatencyHistogram;
  /** Calls by status code name (`OK`, `UNAVAILABLE`, …). */
  readonly statusCounts: ReadonlyMap<string, number>;
  /** Failed calls by `CODE: message`. */
  readonly errorCounts: ReadonlyMap<string, number>;
}

/** Live counters of a running bench, for a progress bar. */
export interface BenchProgress {
  /** Calls finished so far. */
  readonly done: number;
  /** ms since the run started. */
  readonly elapsedMs: number;
}

/**
 * Runs `plan.concurrency` workers that call the method back to back until
 * `totalCalls` calls have started or `durationMs` has passed (whichever
 * comes first), pacing starts to `rps` when given. Every call's latency and
 * status is recorded; a failed call is counted, never thrown.
 *
 * @param onStart - receives a function that reads the live progress.
 * @throws Error when neither `totalCalls` nor `durationMs` is given (the run must be bounded).
 */
export async function runBench(plan: BenchPlan, onStart?: (progress: () => BenchProgress) => void): Promise<BenchResult> {
  if (plan.totalCalls === undefined && plan.durationMs === undefined) throw new Error("runBench needs totalCalls or durationMs");
  const latencies = new LatencyHistogram();
  const statusCounts = new Map<string, number>();
  const errorCounts = new Map<string, number>();
  const startMs = performance.now();
  const endMs = plan.durationMs === undefined ? Infinity : startMs + plan.durationMs;
  const intervalMs = plan.rps === undefined ? 0 : 1000 / plan.rps;
  let started = 0;
  const claim = (): number | undefined => {
    if (plan.signal?.aborted || (plan.totalCalls !== undefined && started >= plan.totalCalls)) return undefined;
    // With --rps a ticket is a start time: none may fall after the end.
    if (performance.now() >= endMs || startMs + started * intervalMs >= endMs) return undefined;
    return started++;
  };
  const options: CallOptions = { ...plan.callOptions, signal: plan.signal };
  const worker = async () => {
    for (let ticket = claim(); ticket !== undefined; ticket = claim()) {
      if (intervalMs > 0) await sleepUntil(startMs + ticket * intervalMs, plan.signal);
      if (plan.signal?.aborted) break;
      const t0 = performance.now();
      const code = await oneCall(plan, options, errorCounts);
      latencies.record(performance.now() - t0);
      statusCounts.set(code, (statusCounts.get(code) ?? 0) + 1);
    }
  };
  const workers = Math.max(1, Math.min(plan.concurrency, plan.totalCalls ?? plan.concurrency));
  onStart?.(() => ({ done: latencies.count, elapsedMs: performance.now() - startMs }));
  await Promise.all(Array.from({ length: workers }, worker));
  return { totalCalls: latencies.count, durationMs: performance.now() - startMs, latencies, statusCounts, errorCounts };
}

async function oneCall(plan: BenchPlan, options: CallOptions, errorCounts: Map<string, number>): Promise<string> {
  try {
    for await (const _ of plan.caller(fromArray(plan.requests), options)) {
      // drain every response: a streamed call ends with its status
    }
    return Code[Code.OK];
  } catch (err) {
    const e = FerryError.from(err);
    const key = `${Code[e.code]}: ${e.rawMessage}`;
    errorCounts.set(key, (errorCounts.get(key) ?? 0) + 1);
    return Code[e.code];
  }
}

async function* fromArray(messages: readonly Message[]): AsyncIterable<Message> {
  yield* messages;
}

function sleepUntil(whenMs: number, signal: AbortSignal | undefined): Promise<void> {
  const waitMs = whenMs - performance.now();
  if (waitMs <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, waitMs);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
