import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { headersReceived, pushbackOf } from "./attempt-outcome.js";
import { ExponentialBackoff, type BackoffOptions } from "./backoff.js";
import { isCircuitOpenError } from "./circuit-open-error.js";
import { ResilienceEvents } from "./events.js";
import { finishNow, policyInterceptor, type ExecuteContext, type ExecuteOptions, type Policy } from "./policy.js";
import type { RetryThrottle } from "./retry-throttle.js";
import { abortError, delay } from "./signals.js";

/** Options of {@link RetryPolicy}; the gRFC A6 `retryPolicy` fields in Ferry's units. */
export interface RetryOptions extends BackoffOptions {
  /** Attempts in all, the first included (integer ≥ 1). Default 3. */
  maxAttempts?: number;
  /**
   * Status codes that make a failed attempt retryable, in addition to errors
   * whose `retryable` flag is set (UNAVAILABLE by default). Default [UNAVAILABLE].
   */
  retryableStatusCodes?: readonly Code[];
  /** Retry throttling shared by the calls to one server (gRFC A6). Default: none. */
  throttle?: RetryThrottle;
  /** Where events go. Default: a new emitter, as `policy.events`. */
  events?: ResilienceEvents;
  /** Name carried in events. */
  name?: string;
}

/** Default {@link RetryOptions.maxAttempts}: 3. */
export const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * Retries failed work with exponential backoff and full jitter, following
 * gRFC A6 ("gRPC Retry Design"):
 *
 * - at most `maxAttempts` attempts, one after the other, each under the
 *   caller's signal (a retry never cancels an attempt itself; an outer
 *   timeout's signal cancels the attempt in flight);
 * - a failure is retried when its FerryError has `retryable` set or its code
 *   is in `retryableStatusCodes` — never after the response headers arrived
 *   (see {@link markHeadersReceived}), never for a circuit-breaker rejection,
 *   never once the caller's signal fired;
 * - the n-th retry waits `random(0, min(initialBackoffMs × multiplier^(n−1), maxBackoffMs))`;
 * - a `grpc-retry-pushback-ms` trailer overrides the delay (no jitter) and
 *   resets the backoff; a negative or invalid value stops retrying;
 * - with a {@link RetryThrottle}, retryable failures cost a token, successes
 *   add `tokenRatio`, and no retry is sent while tokens ≤ maxTokens / 2.
 *
 * When retrying stops, `execute` rejects with the last attempt's error; when
 * the caller's signal fires during a backoff, with the signal's reason.
 *
 * @throws FerryError INVALID_ARGUMENT from the constructor for out-of-range options.
 */
export class RetryPolicy implements Policy {
  /** Attempts in all (see {@link RetryOptions.maxAttempts}). */
  readonly maxAttempts: number;
  /** The events of this policy. */
  readonly events: ResilienceEvents;
  readonly #codes: ReadonlySet<Code>;
  readonly #backoff: BackoffOptions;
  readonly #throttle: RetryThrottle | undefined;
  readonly #name: string | undefined;

  constructor(options: RetryOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new FerryError(Code.INVALID_ARGUMENT, `maxAttempts must be an integer >= 1, got ${options.maxAttempts}`);
    }
    this.#codes = new Set(options.retryableStatusCodes ?? [Code.UNAVAILABLE]);
    this.#backoff = options;
    new ExponentialBackoff(options); // validates the backoff options now rather than on the first retry
    this.#throttle = options.throttle;
    this.events = options.events ?? new ResilienceEvents();
    this.#name = options.name;
  }

  /** Whether `error` may be retried by this policy (ignoring attempts left, pushback and throttling). */
  isRetryable(error: FerryError): boolean {
    if (headersReceived(error) || isCircuitOpenError(error)) return false;
    return error.retryable || this.#codes.has(error.code);
  }

  /** Runs `fn`, retrying it as the class comment describes. */
  async execute<T>(fn: (ctx: ExecuteContext) => Promise<T>, options: ExecuteOptions<T> = {}): Promise<T> {
    const { signal, deadline } = options;
    const finish = options.finish ?? finishNow;
    let backoff: ExponentialBackoff | undefined;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortError(signal);
      let error: FerryError;
      try {
        const result = await fn({ signal, deadline, attempt });
        this.#throttle?.recordSuccess();
        return finish(result, noop);
      } catch (err) {
        error = FerryError.from(err);
      }
      if (signal?.aborted || !this.isRetryable(error)) throw error;
      this.#throttle?.recordFailure();
      if (attempt >= this.maxAttempts) throw error;
      backoff ??= new ExponentialBackoff(this.#backoff);
      await delay(this.#nextDelay(error, backoff, attempt + 1, options.method), signal);
    }
  }

  /** The delay before attempt `next`, or throws `error` when retrying must stop. */
  #nextDelay(error: FerryError, backoff: ExponentialBackoff, next: number, method: string | undefined): number {
    const pushback = pushbackOf(error);
    if (pushback === "stop") {
      this.events.emit({ type: "retry.pushback-stop", policy: this.#name, method, error });
      throw error;
    }
    const throttle = this.#throttle;
    if (throttle !== undefined && !throttle.canRetry()) {
      this.events.emit({ type: "retry.throttled", policy: this.#name, method, tokens: throttle.tokens, maxTokens: throttle.maxTokens, error });
      throw error;
    }
    let delayMs: number;
    if (pushback === undefined) delayMs = backoff.next();
    else {
      delayMs = pushback;
      backoff.reset();
    }
    if (this.events.wants("retry.attempt")) {
      this.events.emit({ type: "retry.attempt", policy: this.#name, method, attempt: next, delayMs, pushback: pushback !== undefined, error });
    }
    return delayMs;
  }

  /**
   * This policy as a client interceptor. Calls with a request stream (client
   * and bidi streaming) pass through untouched: their request stream cannot
   * be replayed.
   */
  interceptor(): Interceptor {
    return policyInterceptor(this, { requestStreams: false });
  }
}

function noop(): void {}

/** Creates a {@link RetryPolicy}. */
export function createRetry(options: RetryOptions = {}): RetryPolicy {
  return new RetryPolicy(options);
}
