import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { TokenBucket } from "../resilience/token-bucket.js";

/** The outcome of one {@link RateLimitStore.take}. */
export interface RateLimitTake {
  /** True when a token was taken and the request may proceed. */
  readonly allowed: boolean;
  /** When refused: milliseconds until a token is available (≥ 1). */
  readonly retryAfterMs: number;
}

/**
 * Where the gateway's token buckets live: in this process
 * ({@link createMemoryRateLimitStore}) or in Redis so that several gateway
 * instances share them ({@link createRedisRateLimitStore}).
 */
export interface RateLimitStore {
  /** Takes one token from `key`'s bucket (`burst` tokens, refilled at `ratePerSecond`). */
  take(key: string, ratePerSecond: number, burst: number): Promise<RateLimitTake>;
}

/** Options of {@link createMemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /** Most buckets kept; the least recently used is dropped beyond it. Default 100 000. */
  maxKeys?: number;
  /** The clock, ms. Default `Date.now`. */
  clock?: () => number;
}

/** Token buckets in process memory (resilience's {@link TokenBucket}), least recently used dropped past `maxKeys`. */
export function createMemoryRateLimitStore(options: MemoryRateLimitStoreOptions = {}): RateLimitStore {
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new FerryError(Code.INVALID_ARGUMENT, `rate limit: maxKeys must be an integer >= 1, got ${maxKeys}`);
  const buckets = new Map<string, TokenBucket>();
  return {
    take(key, ratePerSecond, burst) {
      let bucket = buckets.get(key);
      if (bucket !== undefined) buckets.delete(key);
      else bucket = new TokenBucket({ ratePerSecond, burst, clock: options.clock });
      buckets.set(key, bucket);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
      const allowed = bucket.tryTake();
      return Promise.resolve({ allowed, retryAfterMs: allowed ? 0 : Math.max(1, bucket.msUntilToken()) });
    },
  };
}

/** The subset of an `ioredis` client the Redis store uses. */
export interface RedisEvalClient {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** Options of {@link createRedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** Prefix of the bucket keys. Default `"ferry:ratelimit:"`. */
  keyPrefix?: string;
}

// One token bucket per key, refilled from Redis's own clock (TIME) so that every gateway instance agrees.
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate) end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {allowed, retry}
`;

/**
 * Token buckets in Redis, shared by every gateway instance using the same
 * Redis and prefix: one hash per key, updated atomically by a Lua script
 * using Redis's clock. Pass an `ioredis` client (`new Redis(url)`); the
 * store does not close it. Keys expire once their bucket would be full again.
 */
export function createRedisRateLimitStore(redis: RedisEvalClient, options: RedisRateLimitStoreOptions = {}): RateLimitStore {
  const prefix = options.keyPrefix ?? "ferry:ratelimit:";
  return {
    async take(key, ratePerSecond, burst) {
      const [allowed, retry] = (await redis.eval(TAKE_SCRIPT, 1, prefix + key, ratePerSecond, burst)) as [number, number];
      return { allowed: allowed === 1, retryAfterMs: allowed === 1 ? 0 : Math.max(1, Number(retry)) };
    },
  };
}
