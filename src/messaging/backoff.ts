import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/**
 * Exponential backoff between redeliveries of a failed message: the delay
 * before attempt n+1 is `min(maxMs, initialMs * multiplier^(n-1))`, randomised
 * by ±`jitter` (a fraction), as in gRPC's connection backoff
 * (doc/connection-backoff.md) and the Pub/Sub and Dapr retry policies.
 */
export interface BackoffOptions {
  /** Delay after the first failed attempt, in ms. Defaults to 1000. */
  initialMs?: number;
  /** Upper bound of a delay, in ms. Defaults to 60000. */
  maxMs?: number;
  /** Growth factor per attempt, ≥ 1. Defaults to 2. */
  multiplier?: number;
  /** Random spread as a fraction of the delay, 0–1. Defaults to 0.2 (±20%). */
  jitter?: number;
}

/** {@link BackoffOptions} with every default applied. */
export type ResolvedBackoff = Required<BackoffOptions>;

/** The defaults of {@link BackoffOptions}. */
export const defaultBackoff: ResolvedBackoff = Object.freeze({ initialMs: 1000, maxMs: 60_000, multiplier: 2, jitter: 0.2 });

/** Applies defaults and checks ranges; raises INVALID_ARGUMENT naming the bad field. */
export function resolveBackoff(options: BackoffOptions = {}): ResolvedBackoff {
  const b = { ...defaultBackoff, ...stripUndefined(options) };
  if (!(b.initialMs >= 0)) throw invalid("backoff.initialMs must be ≥ 0");
  if (!(b.maxMs >= b.initialMs)) throw invalid("backoff.maxMs must be ≥ backoff.initialMs");
  if (!(b.multiplier >= 1)) throw invalid("backoff.multiplier must be ≥ 1");
  if (!(b.jitter >= 0 && b.jitter <= 1)) throw invalid("backoff.jitter must be between 0 and 1");
  return b;
}

/** The delay in ms before redelivering a message whose `attempt`-th delivery (1-based) failed. */
export function backoffDelayMs(backoff: ResolvedBackoff, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * Math.pow(backoff.multiplier, Math.max(0, attempt - 1)));
  const spread = base * backoff.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(backoff.maxMs, base + spread)));
}

function invalid(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, message);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
