import type { Code } from "../rpc/code.js";
import type { FallbackInterceptorOptions } from "./fallback.js";
import { FieldReader, invalid } from "./service-config-fields.js";

/**
 * Which methods a method config applies to (gRPC service config `name`):
 * `{service, method}` one method; `{service}` every method of a service;
 * `{}` (or `service: ""`) every method — the default config.
 */
export interface MethodName {
  /** Fully qualified service name, e.g. `"shop.v1.PaymentService"`. */
  readonly service?: string;
  /** Method name as in the .proto, e.g. `"Charge"`. */
  readonly method?: string;
}

/** gRFC A6 `retryPolicy`, in milliseconds. */
export interface RetryPolicyConfig {
  /** Attempts in all, ≥ 2, lowered to `maxAttemptsLimit` (5). Required. */
  readonly maxAttempts: number;
  /** JSON: `initialBackoff` ("0.1s") or `initialBackoffMs`. Default 100. */
  readonly initialBackoffMs?: number;
  /** JSON: `maxBackoff` or `maxBackoffMs`. Default 5,000. */
  readonly maxBackoffMs?: number;
  /** ≥ 1. Default 2. */
  readonly backoffMultiplier?: number;
  /** Non-empty when given. Default [UNAVAILABLE]. */
  readonly retryableStatusCodes?: readonly Code[];
}

/** gRFC A6 `hedgingPolicy`, in milliseconds. */
export interface HedgingPolicyConfig {
  /** Attempts in all, ≥ 2, lowered to `maxAttemptsLimit` (5). Required. */
  readonly maxAttempts: number;
  /** JSON: `hedgingDelay` ("0.05s") or `hedgingDelayMs`. Default 0. */
  readonly hedgingDelayMs?: number;
  /** Default []. */
  readonly nonFatalStatusCodes?: readonly Code[];
}

/** Ferry extension: a circuit breaker (see `CircuitBreakerOptions` for defaults). */
export interface CircuitBreakerConfig {
  readonly failureRateThreshold?: number;
  readonly minimumCalls?: number;
  readonly windowMs?: number;
  readonly consecutiveFailures?: number;
  readonly openDurationMs?: number;
  readonly halfOpenMaxCalls?: number;
  readonly failureCodes?: readonly Code[];
}

/** Ferry extension: a bulkhead (see `BulkheadOptions`). */
export interface BulkheadConfig {
  readonly maxConcurrent?: number;
  readonly maxQueued?: number;
}

/** Ferry extension: a client-side rate limiter (see `RateLimiterOptions`). */
export interface RateLimitConfig {
  readonly ratePerSecond: number;
  readonly burst?: number;
}

/** Ferry extension: a fallback (see `createFallbackInterceptor`). Not expressible in pure JSON when `response` is a function. */
export interface FallbackConfig {
  readonly response: FallbackInterceptorOptions["response"];
  readonly codes?: readonly Code[];
  readonly onCircuitOpen?: boolean;
}

/** One entry of `methodConfig`. */
export interface MethodConfig {
  /** The methods this entry applies to (non-empty). */
  readonly name: readonly MethodName[];
  /** The call's overall timeout (gRPC `timeout`), in ms. */
  readonly timeoutMs?: number;
  readonly retryPolicy?: RetryPolicyConfig;
  readonly hedgingPolicy?: HedgingPolicyConfig;
  readonly circuitBreaker?: CircuitBreakerConfig;
  readonly bulkhead?: BulkheadConfig;
  readonly rateLimit?: RateLimitConfig;
  readonly fallback?: FallbackConfig;
}

/** gRFC A6 `retryThrottling`. */
export interface RetryThrottlingConfig {
  /** In (0, 1000]. Required. */
  readonly maxTokens: number;
  /** > 0. Required. */
  readonly tokenRatio: number;
}

/** A parsed, validated service config (the output of {@link parseServiceConfig}). */
export interface ServiceConfig {
  /** Per-method policies; names are unique across entries. */
  readonly methodConfig: readonly MethodConfig[];
  /** The retry throttle shared by every method. Default none. */
  readonly retryThrottling?: RetryThrottlingConfig;
}

/** Options of {@link parseServiceConfig}. */
export interface ParseServiceConfigOptions {
  /** Largest `maxAttempts` honoured; larger values are lowered to it, as gRPC does. Default 5. */
  maxAttemptsLimit?: number;
}

/** gRPC service config fields Ferry accepts and leaves to other parts (the channel) or ignores. */
const FOREIGN_TOP = ["loadBalancingConfig", "loadBalancingPolicy", "healthCheckConfig"];
const FOREIGN_METHOD = ["waitForReady", "maxRequestMessageBytes", "maxResponseMessageBytes"];

/**
 * Parses and validates a service config: a JSON text or an object shaped
 * after gRPC's service config (gRFC A2/A6) plus Ferry's extensions. Durations
 * may be given as gRPC JSON durations (`"timeout": "1.5s"`,
 * `"initialBackoff": "0.1s"`) or in ms (`timeoutMs`, `initialBackoffMs`);
 * status codes by name or number. See docs/resilience.md for the format.
 *
 * @throws FerryError INVALID_ARGUMENT naming the bad field (for example
 * `invalid service config: methodConfig[0].retryPolicy.maxAttempts must be >= 2, got 1`),
 * for unknown fields, duplicate names, or both `retryPolicy` and `hedgingPolicy`.
 */
export function parseServiceConfig(input: unknown, options: ParseServiceConfigOptions = {}): ServiceConfig {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (err) {
      invalid("serviceConfig", `is not valid JSON (${(err as Error).message})`, input);
    }
  }
  const top = FieldReader.of("serviceConfig", value);
  const list = top.raw("methodConfig") ?? [];
  if (!Array.isArray(list)) invalid("serviceConfig.methodConfig", "must be a list", list);
  const limit = options.maxAttemptsLimit ?? 5;
  const methodConfig = list.map((m, i) => parseMethodConfig(FieldReader.of(`methodConfig[${i}]`, m), limit));
  checkDuplicateNames(methodConfig);
  const throttling = top.raw("retryThrottling");
  const retryThrottling = throttling === undefined ? undefined : parseThrottling(FieldReader.of("retryThrottling", throttling));
  top.rejectUnknown(FOREIGN_TOP);
  return retryThrottling === undefined ? { methodConfig } : { methodConfig, retryThrottling };
}

function parseMethodConfig(r: FieldReader, maxAttemptsLimit: number): MethodConfig {
  const names = r.raw("name");
  if (!Array.isArray(names) || names.length === 0) invalid(`${r.path}.name`, "must be a non-empty list of {service, method?}", names);
  const out: { -readonly [K in keyof MethodConfig]: MethodConfig[K] } = {
    name: names.map((n, i) => parseName(FieldReader.of(`${r.path}.name[${i}]`, n))),
  };
  const timeoutMs = r.durationMs("timeout", "timeoutMs");
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  const retry = r.raw("retryPolicy");
  const hedging = r.raw("hedgingPolicy");
  if (retry !== undefined && hedging !== undefined) invalid(r.path, "sets both retryPolicy and hedgingPolicy; gRFC A6 allows one", "");
  if (retry !== undefined) out.retryPolicy = parseRetry(FieldReader.of(`${r.path}.retryPolicy`, retry), maxAttemptsLimit);
  if (hedging !== undefined) out.hedgingPolicy = parseHedging(FieldReader.of(`${r.path}.hedgingPolicy`, hedging), maxAttemptsLimit);
  const breaker = r.raw("circuitBreaker");
  if (breaker !== undefined) out.circuitBreaker = parseBreaker(FieldReader.of(`${r.path}.circuitBreaker`, breaker));
  const bulkhead = r.raw("bulkhead");
  if (bulkhead !== undefined) out.bulkhead = parseBulkhead(FieldReader.of(`${r.path}.bulkhead`, bulkhead));
  const rateLimit = r.raw("rateLimit");
  if (rateLimit !== undefined) out.rateLimit = parseRateLimit(FieldReader.of(`${r.path}.rateLimit`, rateLimit));
  const fallback = r.raw("fallback");
  if (fallback !== undefined) out.fallback = parseFallback(FieldReader.of(`${r.path}.fallback`, fallback));
  r.rejectUnknown(FOREIGN_METHOD);
  return out;
}

function parseName(r: FieldReader): MethodName {
  const service = r.string("service") ?? "";
  const method = r.string("method");
  r.rejectUnknown();
  if (method !== undefined && method !== "" && service === "") invalid(r.path, "names a method without a service", r.obj);
  if (method === undefined || method === "") return service === "" ? {} : { service };
  return { service, method };
}

function checkDuplicateNames(configs: readonly MethodConfig[]): void {
  const seen = new Map<string, number>();
  configs.forEach((c, i) => {
    for (const n of c.name) {
      const key = methodNameKey(n);
      const first = seen.get(key);
      if (first !== undefined) invalid(`methodConfig[${i}].name`, `repeats ${key === "" ? "the default name {}" : `"${key}"`} of methodConfig[${first}]`, n);
      seen.set(key, i);
    }
  });
}

/** `service/method`, `service`, or `""` for the default: the lookup key of a name. */
export function methodNameKey(name: MethodName): string {
  if (name.service === undefined || name.service === "") return "";
  return name.method === undefined ? name.service : `${name.service}/${name.method}`;
}

function maxAttempts(r: FieldReader, limit: number): number {
  const n = r.number("maxAttempts", { integer: true, min: 2 });
  if (n === undefined) invalid(`${r.path}.maxAttempts`, "is required (an integer >= 2)", undefined);
  return Math.min(n, limit);
}

function parseRetry(r: FieldReader, limit: number): RetryPolicyConfig {
  const out: RetryPolicyConfig = {
    maxAttempts: maxAttempts(r, limit),
    initialBackoffMs: r.durationMs("initialBackoff", "initialBackoffMs", { minExclusive: true }),
    maxBackoffMs: r.durationMs("maxBackoff", "maxBackoffMs", { minExclusive: true }),
    backoffMultiplier: r.number("backoffMultiplier", { min: 1 }),
    retryableStatusCodes: r.codes("retryableStatusCodes", { nonEmpty: true }),
  };
  r.rejectUnknown();
  if (out.initialBackoffMs !== undefined && out.maxBackoffMs !== undefined && out.maxBackoffMs < out.initialBackoffMs) {
    invalid(`${r.path}.maxBackoff`, "must be >= initialBackoff", out.maxBackoffMs);
  }
  return dropUndefined(out);
}

function parseHedging(r: FieldReader, limit: number): HedgingPolicyConfig {
  const out: HedgingPolicyConfig = {
    maxAttempts: maxAttempts(r, limit),
    hedgingDelayMs: r.durationMs("hedgingDelay", "hedgingDelayMs"),
    nonFatalStatusCodes: r.codes("nonFatalStatusCodes"),
  };
  r.rejectUnknown();
  return dropUndefined(out);
}

function parseBreaker(r: FieldReader): CircuitBreakerConfig {
  const out: CircuitBreakerConfig = {
    failureRateThreshold: r.number("failureRateThreshold", { min: 0, minExclusive: true, max: 1 }),
    minimumCalls: r.number("minimumCalls", { integer: true, min: 1 }),
    windowMs: r.number("windowMs", { min: 0, minExclusive: true }),
    consecutiveFailures: r.number("consecutiveFailures", { integer: true, min: 0 }),
    openDurationMs: r.number("openDurationMs", { min: 0 }),
    halfOpenMaxCalls: r.number("halfOpenMaxCalls", { integer: true, min: 1 }),
    failureCodes: r.codes("failureCodes"),
  };
  r.rejectUnknown();
  return dropUndefined(out);
}

function parseBulkhead(r: FieldReader): BulkheadConfig {
  const out = { maxConcurrent: r.number("maxConcurrent", { integer: true, min: 1 }), maxQueued: r.number("maxQueued", { integer: true, min: 0 }) };
  r.rejectUnknown();
  return dropUndefined(out);
}

function parseRateLimit(r: FieldReader): RateLimitConfig {
  const ratePerSecond = r.number("ratePerSecond", { min: 0, minExclusive: true });
  if (ratePerSecond === undefined) invalid(`${r.path}.ratePerSecond`, "is required (a number > 0)", undefined);
  const out = { ratePerSecond, burst: r.number("burst", { min: 1 }) };
  r.rejectUnknown();
  return dropUndefined(out);
}

function parseFallback(r: FieldReader): FallbackConfig {
  const response = r.raw("response");
  if (response === undefined || response === null || (typeof response !== "object" && typeof response !== "function")) {
    invalid(`${r.path}.response`, "is required: a response message (object) or a function returning one", response);
  }
  const out = { response: response as FallbackConfig["response"], codes: r.codes("codes"), onCircuitOpen: r.boolean("onCircuitOpen") };
  r.rejectUnknown();
  return dropUndefined(out);
}

function parseThrottling(r: FieldReader): RetryThrottlingConfig {
  const maxTokens = r.number("maxTokens", { min: 0, minExclusive: true, max: 1000 });
  const tokenRatio = r.number("tokenRatio", { min: 0, minExclusive: true });
  if (maxTokens === undefined) invalid(`${r.path}.maxTokens`, "is required (a number in (0, 1000])", undefined);
  if (tokenRatio === undefined) invalid(`${r.path}.tokenRatio`, "is required (a number > 0)", undefined);
  r.rejectUnknown();
  return { maxTokens, tokenRatio };
}

function dropUndefined<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as (keyof T)[]) if (obj[key] === undefined) delete obj[key];
  return obj;
}
