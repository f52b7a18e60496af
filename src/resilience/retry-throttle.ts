import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** Options of {@link RetryThrottle}; gRFC A6 `retryThrottling`. */
export interface RetryThrottleOptions {
  /** Bucket size: the token count starts here and never exceeds it. In (0, 1000]. Required. */
  maxTokens: number;
  /** Tokens a successful attempt adds back (> 0; gRFC A6 keeps 3 decimals). Required. */
  tokenRatio: number;
}

/**
 * Retry throttling from gRFC A6, shared by every call to one server (one
 * instance per client or channel): a token bucket that starts full at
 * `maxTokens`; each failed attempt (a retryable or non-fatal status) takes 1
 * token, each successful attempt adds `tokenRatio` (capped at `maxTokens`).
 * Retries and hedged attempts are sent only while `tokens > maxTokens / 2`;
 * first attempts are never throttled. So during an outage retries stop after
 * about `maxTokens / 2` failures, and resume once successes refill the bucket.
 *
 * @throws FerryError INVALID_ARGUMENT from the constructor for out-of-range options.
 */
export class RetryThrottle {
  /** Bucket size (see {@link RetryThrottleOptions.maxTokens}). */
  readonly maxTokens: number;
  /** Tokens a success adds, rounded to 3 decimals. */
  readonly tokenRatio: number;
  #tokens: number;

  constructor(options: RetryThrottleOptions) {
    const { maxTokens, tokenRatio } = options;
    if (!(maxTokens > 0 && maxTokens <= 1000)) {
      throw new FerryError(Code.INVALID_ARGUMENT, `retryThrottling.maxTokens must be in (0, 1000], got ${maxTokens}`);
    }
    if (!(tokenRatio > 0) || !Number.isFinite(tokenRatio)) {
      throw new FerryError(Code.INVALID_ARGUMENT, `retryThrottling.tokenRatio must be a finite number > 0, got ${tokenRatio}`);
    }
    this.maxTokens = maxTokens;
    this.tokenRatio = Math.round(tokenRatio * 1000) / 1000;
    this.#tokens = maxTokens;
  }

  /** The current token count. */
  get tokens(): number {
    return this.#tokens;
  }

  /** Whether a retry or hedged attempt may be sent now (`tokens > maxTokens / 2`). */
  canRetry(): boolean {
    return this.#tokens > this.maxTokens / 2;
  }

  /** Records a failed attempt: one token less (not below 0). */
  recordFailure(): void {
    this.#tokens = Math.max(this.#tokens - 1, 0);
  }

  /** Records a successful attempt: `tokenRatio` tokens more (not above `maxTokens`). */
  recordSuccess(): void {
    this.#tokens = Math.min(this.#tokens + this.tokenRatio, this.maxTokens);
  }
}
