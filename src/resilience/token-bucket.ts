import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second (> 0). Required. */
  ratePerSecond: number;
  /** Bucket size: the largest burst allowed at once (≥ 1). Default `max(1, ratePerSecond)`. */
  burst?: number;
  /** The clock, in ms. Default `Date.now`. */
  clock?: () => number;
}

/**
 * The token bucket algorithm: the bucket starts full with `burst` tokens and
 * gains `ratePerSecond` tokens a second, up to `burst`; each admitted call
 * takes one. Refilled lazily on use, so it holds no timer.
 *
 * @throws FerryError INVALID_ARGUMENT from the constructor for out-of-range options.
 */
export class TokenBucket {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket size. */
  readonly burst: number;
  readonly #clock: () => number;
  #tokens: number;
  #lastMs: number;

  constructor(options: TokenBucketOptions) {
    const { ratePerSecond } = options;
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new FerryError(Code.INVALID_ARGUMENT, `rate limit: ratePerSecond must be a finite number > 0, got ${ratePerSecond}`);
    }
    const burst = options.burst ?? Math.max(1, ratePerSecond);
    if (!(burst >= 1) || !Number.isFinite(burst)) {
      throw new FerryError(Code.INVALID_ARGUMENT, `rate limit: burst must be a finite number >= 1, got ${options.burst}`);
    }
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.#clock = options.clock ?? Date.now;
    this.#tokens = burst;
    this.#lastMs = this.#clock();
  }

  /** Tokens available now (fractional). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes one token if there is one. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token will be available (0 when one is). */
  msUntilToken(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / this.ratePerSecond);
  }

  #refill(): void {
    const now = this.#clock();
    const elapsed = now - this.#lastMs;
    this.#lastMs = now;
    if (elapsed > 0) this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
