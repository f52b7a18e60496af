import type { AnyRequest, AnyResponse, CallHandler } from "../rpc/call.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { releasingIterable } from "./signals.js";

/** What a policy hands to the work it runs (one attempt of it). */
export interface ExecuteContext {
  /**
   * The signal the work must honour: it fires when the caller cancels, when a
   * timeout elapses, or when a hedged attempt loses. Its reason is a
   * FerryError. `undefined` only when nothing can cancel the work.
   */
  readonly signal: AbortSignal | undefined;
  /** The absolute deadline (ms since the epoch, `Date.now()` clock), or `undefined`. */
  readonly deadline: number | undefined;
  /** 1 for the first attempt, 2 for the first retry or hedge, … */
  readonly attempt: number;
}

/** Options of {@link Policy.execute}. */
export interface ExecuteOptions<T> {
  /** The caller's signal; the policy stops waiting and cancels the work when it fires. */
  signal?: AbortSignal;
  /** The caller's absolute deadline (ms since the epoch). */
  deadline?: number;
  /** The RPC method path, carried in events. */
  method?: string;
  /**
   * Hands a successful result back, releasing what the policy holds for it
   * (a bulkhead slot, a timeout timer, the attempt signal's link to the
   * caller's signal). Default: release at once. The interceptor form uses it
   * to hold them until a streaming response ends.
   */
  finish?: (result: T, release: () => void) => T;
}

/**
 * A resilience policy: runs work under a rule (a timeout, retries, a circuit
 * breaker, …). Policies compose with {@link wrap} and become client
 * interceptors with {@link policyInterceptor}.
 */
export interface Policy {
  /**
   * Runs `fn` under the policy. Rejects with a FerryError: the work's own
   * (normalised with `FerryError.from`) or the policy's (see each policy).
   */
  execute<T>(fn: (ctx: ExecuteContext) => Promise<T>, options?: ExecuteOptions<T>): Promise<T>;
}

/** Calls `fn(ctx)`, turning a synchronous throw into a rejection. */
export function invoke<T>(fn: (ctx: ExecuteContext) => Promise<T>, ctx: ExecuteContext): Promise<T> {
  try {
    return fn(ctx);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Default {@link ExecuteOptions.finish}: releases at once. */
export function finishNow<T>(result: T, release: () => void): T {
  release();
  return result;
}

/**
 * Composes policies, the first outermost (cockatiel's `wrap`):
 * `wrap(timeout, retry, breaker).execute(fn)` runs `fn` inside the breaker,
 * inside the retry loop, inside the timeout.
 */
export function wrap(...policies: Policy[]): Policy {
  return {
    execute<T>(fn: (ctx: ExecuteContext) => Promise<T>, options: ExecuteOptions<T> = {}): Promise<T> {
      const run = (index: number, ctx: ExecuteContext | undefined): Promise<T> => {
        if (index === policies.length) return fn(ctx ?? { signal: options.signal, deadline: options.deadline, attempt: 1 });
        const inner: ExecuteOptions<T> = ctx === undefined ? options : { ...options, signal: ctx.signal, deadline: ctx.deadline };
        return policies[index].execute((c) => run(index + 1, c), inner);
      };
      return run(0, undefined);
    },
  };
}

/**
 * Holds `release` until a streaming response has been read to its end (or
 * the reader stops); releases at once for a unary response.
 */
export function finishResponse(response: AnyResponse, release: () => void): AnyResponse {
  if (!response.stream) {
    release();
    return response;
  }
  return { ...response, messages: releasingIterable(response.messages, release) };
}

/** Options of {@link policyInterceptor}. */
export interface PolicyInterceptorOptions {
  /**
   * Whether calls with a request stream (client and bidi streaming) go
   * through the policy. Retry and hedging set this to false: a request
   * stream can be read only once, so it cannot be replayed. Default true.
   */
  requestStreams?: boolean;
}

/**
 * Turns a policy into a client interceptor. Each attempt's request carries
 * the attempt's own signal and deadline (linked to the call's), so a
 * cancelled attempt really stops at the transport.
 */
export function policyInterceptor(policy: Policy, options: PolicyInterceptorOptions = {}): Interceptor {
  const requestStreams = options.requestStreams ?? true;
  return (next: CallHandler): CallHandler => (request: AnyRequest) => {
    if (request.stream && !requestStreams) return next(request);
    return policy.execute<AnyResponse>((ctx) => next(withAttempt(request, ctx)), {
      signal: request.signal,
      deadline: request.deadline,
      method: request.method.path,
      finish: finishResponse,
    });
  };
}

/** The request with the attempt's signal and deadline (the same object when both are unchanged). */
export function withAttempt(request: AnyRequest, ctx: ExecuteContext): AnyRequest {
  if (ctx.signal === request.signal && ctx.deadline === request.deadline) return request;
  return { ...request, signal: ctx.signal, deadline: ctx.deadline };
}
