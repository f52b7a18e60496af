import type { AnyRequest, AnyResponse, CallHandler } from "../rpc/call.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { Bulkhead } from "./bulkhead.js";
import { CircuitBreaker, type CircuitBreakerState } from "./circuit-breaker.js";
import { ResilienceEvents } from "./events.js";
import { createFallbackInterceptor } from "./fallback.js";
import { HedgingPolicy } from "./hedging.js";
import { finishResponse, withAttempt, wrap, type Policy } from "./policy.js";
import { RateLimiter } from "./rate-limiter.js";
import { RetryPolicy } from "./retry.js";
import { RetryThrottle } from "./retry-throttle.js";
import { methodNameKey, parseServiceConfig, type MethodConfig, type ParseServiceConfigOptions, type ServiceConfig } from "./service-config.js";
import { TimeoutPolicy } from "./timeout.js";

/** Options of {@link Resilience}. */
export interface ResilienceOptions extends ParseServiceConfigOptions {
  /** Where every policy's events go. Default: a new emitter, as `resilience.events`. */
  events?: ResilienceEvents;
  /** Source of uniform numbers in [0, 1) for backoff jitter. Default `Math.random`. */
  random?: () => number;
  /** Clock in ms for breakers and rate limiters. Default `Date.now`. */
  clock?: () => number;
}

/** The policies built for one `methodConfig` entry, shared by every method it names. */
interface EntryPolicies {
  readonly name: string;
  readonly breaker: CircuitBreaker | undefined;
  readonly bulkhead: Bulkhead | undefined;
  /** The chain for calls whose request is one message (retries and hedging apply). */
  readonly unary: Policy;
  /** The chain for calls with a request stream (no retry or hedging: the stream cannot be replayed). */
  readonly streaming: Policy;
  readonly fallback: Interceptor | undefined;
}

/**
 * Turns a service config into the policies it declares and one client
 * interceptor applying them per method.
 *
 * Per call, the policies of the most specific matching `methodConfig` entry
 * run in this order, outermost first:
 *
 *   fallback → timeout → retry | hedging → circuit breaker → bulkhead → rate limit → transport
 *
 * (see docs/resilience.md for why). Each `methodConfig` entry has one
 * breaker, bulkhead and rate limiter, shared by all the methods it names; the
 * retry throttle (`retryThrottling`) is shared by every method.
 *
 * @throws FerryError INVALID_ARGUMENT for an invalid config (see {@link parseServiceConfig}).
 */
export class Resilience {
  /** Every event of every policy built from the config. */
  readonly events: ResilienceEvents;
  /** The parsed config. */
  readonly config: ServiceConfig;
  /** The retry throttle, when the config sets `retryThrottling`. */
  readonly throttle: RetryThrottle | undefined;
  readonly #byName = new Map<string, EntryPolicies>();
  readonly #entries: EntryPolicies[] = [];

  constructor(config: unknown, options: ResilienceOptions = {}) {
    this.config = parseServiceConfig(config, options);
    this.events = options.events ?? new ResilienceEvents();
    const t = this.config.retryThrottling;
    this.throttle = t === undefined ? undefined : new RetryThrottle(t);
    for (const mc of this.config.methodConfig) {
      const entry = this.#build(mc, options);
      this.#entries.push(entry);
      for (const n of mc.name) this.#byName.set(methodNameKey(n), entry);
    }
  }

  /** The state of every circuit breaker, by its method config's name (for dashboards). */
  breakerStates(): Record<string, CircuitBreakerState> {
    const out: Record<string, CircuitBreakerState> = {};
    for (const e of this.#entries) if (e.breaker !== undefined) out[e.name] = e.breaker.state;
    return out;
  }

  /** Every bulkhead's calls running and waiting, by its method config's name (for gauges and dashboards). */
  bulkheadOccupancy(): Record<string, { readonly active: number; readonly queued: number }> {
    const out: Record<string, { active: number; queued: number }> = {};
    for (const e of this.#entries) if (e.bulkhead !== undefined) out[e.name] = { active: e.bulkhead.active, queued: e.bulkhead.queued };
    return out;
  }

  /** The client interceptor applying the config. Calls of methods no entry names pass through untouched. */
  interceptor(): Interceptor {
    return (next: CallHandler): CallHandler => {
      const handlers = new Map<string, CallHandler>();
      return (request) => {
        let handler = handlers.get(request.method.path);
        if (handler === undefined) {
          handler = this.#handlerFor(request, next);
          handlers.set(request.method.path, handler);
        }
        return handler(request);
      };
    };
  }

  #handlerFor(request: AnyRequest, next: CallHandler): CallHandler {
    const service = request.method.service.typeName;
    const entry = this.#byName.get(`${service}/${request.method.method.name}`) ?? this.#byName.get(service) ?? this.#byName.get("");
    if (entry === undefined) return next;
    const policy = request.method.requestStream ? entry.streaming : entry.unary;
    const run: CallHandler = (req) =>
      policy.execute<AnyResponse>((ctx) => next(withAttempt(req, ctx)), {
        signal: req.signal,
        deadline: req.deadline,
        method: req.method.path,
        finish: finishResponse,
      });
    return entry.fallback === undefined ? run : entry.fallback(run);
  }

  #build(mc: MethodConfig, options: ResilienceOptions): EntryPolicies {
    const name = methodNameKey(mc.name[0]) || "*";
    const common = { events: this.events, name };
    const clock = options.clock;
    const outer: Policy[] = [];
    if (mc.timeoutMs !== undefined) outer.push(new TimeoutPolicy({ ...common, timeoutMs: mc.timeoutMs }));
    const attempts: Policy[] = [];
    if (mc.retryPolicy !== undefined) attempts.push(new RetryPolicy({ ...common, ...mc.retryPolicy, throttle: this.throttle, random: options.random }));
    if (mc.hedgingPolicy !== undefined) attempts.push(new HedgingPolicy({ ...common, ...mc.hedgingPolicy, throttle: this.throttle }));
    const breaker = mc.circuitBreaker === undefined ? undefined : new CircuitBreaker({ ...common, ...mc.circuitBreaker, clock });
    const inner: Policy[] = [];
    if (breaker !== undefined) inner.push(breaker);
    const bulkhead = mc.bulkhead === undefined ? undefined : new Bulkhead({ ...common, ...mc.bulkhead });
    if (bulkhead !== undefined) inner.push(bulkhead);
    if (mc.rateLimit !== undefined) inner.push(new RateLimiter({ ...common, ...mc.rateLimit, clock }));
    const fallback = mc.fallback === undefined ? undefined : createFallbackInterceptor({ ...common, ...mc.fallback });
    return { name, breaker, bulkhead, unary: wrap(...outer, ...attempts, ...inner), streaming: wrap(...outer, ...inner), fallback };
  }
}

/**
 * Parses `config` and returns one client interceptor applying its policies
 * (see {@link Resilience}). Pass `options.events` to observe them.
 *
 * @throws FerryError INVALID_ARGUMENT for an invalid config.
 */
export function createResilienceInterceptor(config: unknown, options: ResilienceOptions = {}): Interceptor {
  return new Resilience(config, options).interceptor();
}
