/**
 * Resilience policies: timeout, retry, hedging, circuit breaker, bulkhead,
 * rate limiter and fallback, each usable on its own (`execute`) or as a
 * client interceptor, and a service config that composes them per method.
 * See docs/resilience.md.
 */
export { headersReceived, markHeadersReceived, pushbackOf, PUSHBACK_KEY } from "./attempt-outcome.js";
export { ExponentialBackoff, DEFAULT_BACKOFF_MULTIPLIER, DEFAULT_INITIAL_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS, type BackoffOptions } from "./backoff.js";
export { Bulkhead, createBulkhead, DEFAULT_MAX_CONCURRENT, type BulkheadOptions } from "./bulkhead.js";
export {
  CircuitBreaker,
  createCircuitBreaker,
  DEFAULT_BREAKER_FAILURE_CODES,
  type CircuitBreakerOptions,
  type CircuitBreakerState,
  type WindowBucket,
} from "./circuit-breaker.js";
export { circuitOpenError, isCircuitOpenError } from "./circuit-open-error.js";
export {
  ResilienceEvents,
  type ResilienceEvent,
  type ResilienceEventMap,
  type ResilienceEventType,
  type ResilienceListener,
} from "./events.js";
export {
  createFallbackInterceptor,
  DEFAULT_FALLBACK_CODES,
  FallbackPolicy,
  type FallbackInterceptorOptions,
  type FallbackOptions,
  type FallbackValue,
} from "./fallback.js";
export { createHedging, HedgingPolicy, type HedgingOptions } from "./hedging.js";
export {
  finishResponse,
  policyInterceptor,
  wrap,
  type ExecuteContext,
  type ExecuteOptions,
  type Policy,
  type PolicyInterceptorOptions,
} from "./policy.js";
export {
  createRateLimiter,
  createRateLimitServerInterceptor,
  RateLimiter,
  type RateLimiterOptions,
  type ServerRateLimitOptions,
} from "./rate-limiter.js";
export { createResilienceInterceptor, Resilience, type ResilienceOptions } from "./resilience.js";
export { createRetry, DEFAULT_MAX_ATTEMPTS, RetryPolicy, type RetryOptions } from "./retry.js";
export { RetryThrottle, type RetryThrottleOptions } from "./retry-throttle.js";
export {
  parseServiceConfig,
  type BulkheadConfig,
  type CircuitBreakerConfig,
  type FallbackConfig,
  type HedgingPolicyConfig,
  type MethodConfig,
  type MethodName,
  type ParseServiceConfigOptions,
  type RateLimitConfig,
  type RetryPolicyConfig,
  type RetryThrottlingConfig,
  type ServiceConfig,
} from "./service-config.js";
export { createTimeout, TimeoutPolicy, type TimeoutOptions } from "./timeout.js";
export { TokenBucket, type TokenBucketOptions } from "./token-bucket.js";
