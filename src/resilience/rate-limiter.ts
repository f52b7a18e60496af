import { Code } from "../rpc/code.js";
import type { AnyRequest, CallHandler } from "../rpc/call.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { PUSHBACK_KEY } from "./attempt-outcome.js";
import { ResilienceEvents } from "./events.js";
import { invoke, policyInterceptor, type ExecuteContext, type ExecuteOptions, type Policy } from "./policy.js";
import { TokenBucket, type TokenBucketOptions } from "./token-bucket.js";

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions extends TokenBucketOptions {
  /** Where events go. Default: a new emitter, as `limiter.events`. */
  events?: ResilienceEvents;
  /** Name carried in events and in the rejection message. */
  name?: string;
}

/**
 * A client-side rate limiter: a {@link TokenBucket} of `burst` tokens refilled
 * at `ratePerSecond`. A call that finds no token is rejected at once, before
 * anything is sent, with RESOURCE_EXHAUSTED (not retryable); its
 * `ferry-retry-after-ms` trailer says when a token will be there.
 *
 * @throws FerryError INVALID_ARGUMENT from the constructor for out-of-range options.
 */
export class RateLimiter implements Policy {
  /** The events of this limiter. */
  readonly events: ResilienceEvents;
  /** The token bucket (read `tokens` for dashboards). */
  readonly bucket: TokenBucket;
  readonly #name: string | undefined;

  constructor(options: RateLimiterOptions) {
    this.bucket = new TokenBucket(options);
    this.events = options.events ?? new ResilienceEvents();
    this.#name = options.name;
  }

  /** Runs `fn` if a token is available, else rejects with RESOURCE_EXHAUSTED. */
  execute<T>(fn: (ctx: ExecuteContext) => Promise<T>, options: ExecuteOptions<T> = {}): Promise<T> {
    if (!this.bucket.tryTake()) {
      const retryAfterMs = this.bucket.msUntilToken();
      this.events.emit({ type: "rate-limit.rejected", policy: this.#name, method: options.method, side: "client", key: undefined, retryAfterMs });
      return Promise.reject(rateLimitedError(this.#name, this.bucket, retryAfterMs, "ferry-retry-after-ms"));
    }
    return invoke(fn, { signal: options.signal, deadline: options.deadline, attempt: 1 });
  }

  /** This limiter as a client interceptor. */
  interceptor(): Interceptor {
    return policyInterceptor(this);
  }
}

/** Creates a client-side {@link RateLimiter}. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  return new RateLimiter(options);
}

/** Options of {@link createRateLimitServerInterceptor}. */
export interface ServerRateLimitOptions extends RateLimiterOptions {
  /**
   * Picks the bucket of a request, for example by caller
   * (`req.context?.peer`) or by method (`req.method.path`). Default: one
   * bucket for every call the server receives.
   */
  key?: (request: AnyRequest) => string;
  /** Most buckets kept; the least recently used is dropped beyond it (integer ≥ 1). Default 10,000. */
  maxKeys?: number;
}

/**
 * A server interceptor that admits calls at `ratePerSecond` (bursts of up to
 * `burst`), per `key`. A call over the rate is rejected with
 * RESOURCE_EXHAUSTED before its handler runs; the `grpc-retry-pushback-ms`
 * trailer (gRFC A6) tells the client's retry policy when to try again.
 *
 * @throws FerryError INVALID_ARGUMENT for out-of-range options.
 */
export function createRateLimitServerInterceptor(options: ServerRateLimitOptions): Interceptor {
  new TokenBucket(options); // validates options now
  const events = options.events ?? new ResilienceEvents();
  const maxKeys = options.maxKeys ?? 10_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new FerryError(Code.INVALID_ARGUMENT, `rate limit: maxKeys must be an integer >= 1, got ${options.maxKeys}`);
  }
  const buckets = new Map<string, TokenBucket>();
  const bucketOf = (key: string): TokenBucket => {
    let bucket = buckets.get(key);
    if (bucket !== undefined) buckets.delete(key);
    else bucket = new TokenBucket(options);
    buckets.set(key, bucket);
    if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
    return bucket;
  };
  return (next: CallHandler): CallHandler => (request) => {
    const key = options.key?.(request);
    const bucket = bucketOf(key ?? "");
    if (bucket.tryTake()) return next(request);
    const retryAfterMs = bucket.msUntilToken();
    events.emit({ type: "rate-limit.rejected", policy: options.name, method: request.method.path, side: "server", key, retryAfterMs });
    return Promise.reject(rateLimitedError(options.name, bucket, retryAfterMs, PUSHBACK_KEY));
  };
}

function rateLimitedError(name: string | undefined, bucket: TokenBucket, retryAfterMs: number, trailer: string): FerryError {
  const who = name === undefined ? "rate limit" : `rate limit "${name}"`;
  return new FerryError(Code.RESOURCE_EXHAUSTED, `${who} exceeded (${bucket.ratePerSecond}/s, burst ${bucket.burst}); retry in ${retryAfterMs} ms`, {
    metadata: { [trailer]: String(retryAfterMs) },
  });
}
