import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** Options of {@link ExponentialBackoff}; names and meaning from gRFC A6 `retryPolicy`. */
export interface BackoffOptions {
  /** Upper bound of the first retry's delay, in ms (> 0). Default 100. */
  initialBackoffMs?: number;
  /** Largest upper bound of any delay, in ms (≥ initialBackoffMs). Default 5,000. */
  maxBackoffMs?: number;
  /** Factor the bound grows by after each retry (≥ 1). Default 2. */
  backoffMultiplier?: number;
  /** Source of uniform numbers in [0, 1). Default `Math.random`; inject one in tests. */
  random?: () => number;
}

/** Default {@link BackoffOptions.initialBackoffMs}: 100 ms. */
export const DEFAULT_INITIAL_BACKOFF_MS = 100;
/** Default {@link BackoffOptions.maxBackoffMs}: 5 s. */
export const DEFAULT_MAX_BACKOFF_MS = 5_000;
/** Default {@link BackoffOptions.backoffMultiplier}: 2. */
export const DEFAULT_BACKOFF_MULTIPLIER = 2;

/**
 * Exponential backoff with full jitter, as gRFC A6 defines retry delays: the
 * n-th retry waits `random(0, min(initialBackoffMs × backoffMultiplier^(n−1),
 * maxBackoffMs))`. One instance per call; {@link reset} starts over from
 * `initialBackoffMs` (gRFC A6 does so after a server pushback).
 *
 * @throws FerryError INVALID_ARGUMENT from the constructor for out-of-range options.
 */
export class ExponentialBackoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #multiplier: number;
  readonly #random: () => number;
  #bound: number;

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS;
    this.#max = options.maxBackoffMs ?? Math.max(DEFAULT_MAX_BACKOFF_MS, this.#initial);
    this.#multiplier = options.backoffMultiplier ?? DEFAULT_BACKOFF_MULTIPLIER;
    this.#random = options.random ?? Math.random;
    checkBackoff(this.#initial, this.#max, this.#multiplier);
    this.#bound = this.#initial;
  }

  /** The delay before the next retry, in ms, and advances the exponent. */
  next(): number {
    const delayMs = this.#random() * this.#bound;
    this.#bound = Math.min(this.#bound * this.#multiplier, this.#max);
    return delayMs;
  }

  /** The upper bound the next call of {@link next} draws under. */
  get currentBoundMs(): number {
    return this.#bound;
  }

  /** Starts over from `initialBackoffMs`. */
  reset(): void {
    this.#bound = this.#initial;
  }
}

function checkBackoff(initial: number, max: number, multiplier: number): void {
  if (!(initial > 0) || !Number.isFinite(initial)) fail(`initialBackoffMs must be a finite number > 0, got ${initial}`);
  if (!(max >= initial) || !Number.isFinite(max)) fail(`maxBackoffMs must be a finite number >= initialBackoffMs (${initial}), got ${max}`);
  if (!(multiplier >= 1) || !Number.isFinite(multiplier)) fail(`backoffMultiplier must be a finite number >= 1, got ${multiplier}`);
}

function fail(message: string): never {
  throw new FerryError(Code.INVALID_ARGUMENT, message);
}
