import type { FerryError } from "../rpc/ferry-error.js";
import { TypedEvents, type TypedEvent, type TypedListener } from "../util/typed-events.js";

/** Fields every resilience event carries. */
interface EventBase {
  /** The policy instance's name (for service-config policies, the method config's name), or `undefined`. */
  readonly policy: string | undefined;
  /** The call's method path (`/pkg.Service/Method`), or `undefined` outside an RPC call. */
  readonly method: string | undefined;
}

/**
 * Every event a resilience policy emits, by type. Events are plain,
 * serialisable objects except for the `error` fields (a FerryError).
 */
export interface ResilienceEventMap {
  /** A timeout policy's time ran out; the work was cancelled through its signal. */
  "timeout": EventBase & { readonly timeoutMs: number };
  /** A retry was scheduled: attempt number `attempt` (2 for the first retry) starts after `delayMs`. */
  "retry.attempt": EventBase & { readonly attempt: number; readonly delayMs: number; readonly pushback: boolean; readonly error: FerryError };
  /** A retry or hedged attempt was not sent because the retry throttle's tokens are at or below half. */
  "retry.throttled": EventBase & { readonly tokens: number; readonly maxTokens: number; readonly error: FerryError | undefined };
  /** The server's `grpc-retry-pushback-ms` said not to retry (negative or invalid value). */
  "retry.pushback-stop": EventBase & { readonly error: FerryError };
  /** A hedged attempt was sent (`attempt` ≥ 2), `delayMs` after the previous one. */
  "hedge.attempt": EventBase & { readonly attempt: number };
  /** The circuit breaker opened; calls are rejected until `halfOpenAtMs` (clock ms). */
  "breaker.opened": EventBase & { readonly from: "closed" | "half-open"; readonly halfOpenAtMs: number };
  /** The circuit breaker went half-open: up to `probes` calls may pass. */
  "breaker.half-open": EventBase & { readonly probes: number };
  /** The circuit breaker closed after its probes succeeded. */
  "breaker.closed": EventBase;
  /** A call was rejected because the breaker is open (or half-open with every probe slot taken). */
  "breaker.rejected": EventBase & { readonly state: "open" | "half-open" };
  /** The bulkhead was full (every slot and queue place taken): the call was rejected. */
  "bulkhead.rejected": EventBase & { readonly active: number; readonly queued: number };
  /** A rate limiter had no token: the call was rejected. */
  "rate-limit.rejected": EventBase & { readonly side: "client" | "server"; readonly key: string | undefined; readonly retryAfterMs: number };
  /** A fallback answered instead of the failed call. */
  "fallback.used": EventBase & { readonly error: FerryError };
}

/** The name of an event type. */
export type ResilienceEventType = keyof ResilienceEventMap;

/** Any resilience event, discriminated by `type`. */
export type ResilienceEvent = TypedEvent<ResilienceEventMap>;

/** One listener of events of type `K`. */
export type ResilienceListener<K extends ResilienceEventType> = TypedListener<ResilienceEventMap, K>;

/**
 * A small typed event emitter shared by resilience policies, for metrics,
 * logs and the dashboard. Pass one instance to several policies (option
 * `events`) to observe them all in one place.
 *
 * Listeners run synchronously when the state change happens. A listener that
 * throws is skipped (its error is dropped) so that observers can never break
 * calls. `on` and `onAny` return a function that removes the listener.
 */
export class ResilienceEvents extends TypedEvents<ResilienceEventMap> {}
