import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { CircuitBreakerState } from "./circuit-breaker.js";
import type { ResilienceEvents } from "./events.js";

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Failure rate (0 < r ≤ 1) at or above which the breaker opens. Default 0.5. */
  failureRateThreshold?: number;
  /** Calls the window must hold before the failure rate is judged (integer ≥ 1). Default 10. */
  minimumCalls?: number;
  /** Length of the sliding window, in ms. Default 10,000. */
  windowMs?: number;
  /** Slices the window is kept in (integer ≥ 1); it slides by `windowMs / windowBuckets`. Default 10. */
  windowBuckets?: number;
  /** Opens after this many failures in a row, whatever the rate (integer ≥ 1; 0 turns it off). Default 0 (off). */
  consecutiveFailures?: number;
  /** How long the breaker stays open before letting probes through, in ms. Default 10,000. */
  openDurationMs?: number;
  /** Probe calls let through at a time when half-open; this many successes close it (integer ≥ 1). Default 1. */
  halfOpenMaxCalls?: number;
  /** Status codes that count as failures. Default {@link DEFAULT_BREAKER_FAILURE_CODES}. */
  failureCodes?: readonly Code[];
  /** The clock, in ms. Default `Date.now` (faked by vitest's fake timers). */
  clock?: () => number;
  /** State to start from (for example one saved with `JSON.stringify(breaker)`). Default closed. */
  initialState?: CircuitBreakerState;
  /** Where events go. Default: a new emitter, as `breaker.events`. */
  events?: ResilienceEvents;
  /** Name carried in events and in the rejection message. */
  name?: string;
}

/**
 * Codes that count as failures by default: the server or the path to it is
 * unwell (UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE, DATA_LOSS).
 * Answers such as NOT_FOUND or INVALID_ARGUMENT show a healthy server and
 * count as successes; RESOURCE_EXHAUSTED is left out so that a local bulkhead
 * or rate limiter rejection does not trip the breaker.
 */
export const DEFAULT_BREAKER_FAILURE_CODES: readonly Code[] = Object.freeze([
  Code.UNKNOWN,
  Code.DEADLINE_EXCEEDED,
  Code.INTERNAL,
  Code.UNAVAILABLE,
  Code.DATA_LOSS,
]);

type Checked = Required<Omit<CircuitBreakerOptions, "events" | "name" | "initialState">>;

/** Fills in defaults and checks ranges. @throws FerryError INVALID_ARGUMENT naming the bad option. */
export function checkBreakerOptions(o: CircuitBreakerOptions): Checked {
  const c: Checked = {
    failureRateThreshold: o.failureRateThreshold ?? 0.5,
    minimumCalls: o.minimumCalls ?? 10,
    windowMs: o.windowMs ?? 10_000,
    windowBuckets: o.windowBuckets ?? 10,
    consecutiveFailures: o.consecutiveFailures ?? 0,
    openDurationMs: o.openDurationMs ?? 10_000,
    halfOpenMaxCalls: o.halfOpenMaxCalls ?? 1,
    failureCodes: o.failureCodes ?? DEFAULT_BREAKER_FAILURE_CODES,
    clock: o.clock ?? Date.now,
  };
  if (!(c.failureRateThreshold > 0 && c.failureRateThreshold <= 1)) bad("failureRateThreshold must be in (0, 1]", c.failureRateThreshold);
  positiveInt("minimumCalls", c.minimumCalls);
  positiveInt("windowBuckets", c.windowBuckets);
  positiveInt("halfOpenMaxCalls", c.halfOpenMaxCalls);
  if (!Number.isInteger(c.consecutiveFailures) || c.consecutiveFailures < 0) bad("consecutiveFailures must be an integer >= 0", c.consecutiveFailures);
  if (!(c.windowMs > 0) || !Number.isFinite(c.windowMs)) bad("windowMs must be a finite number > 0", c.windowMs);
  if (!(c.openDurationMs >= 0) || !Number.isFinite(c.openDurationMs)) bad("openDurationMs must be a finite number >= 0", c.openDurationMs);
  return c;
}

function positiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) bad(`${name} must be an integer >= 1`, value);
}

function bad(message: string, value: unknown): never {
  throw new FerryError(Code.INVALID_ARGUMENT, `circuit breaker: ${message}, got ${String(value)}`);
}
