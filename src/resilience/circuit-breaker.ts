import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { circuitOpenError } from "./circuit-open-error.js";
import { checkBreakerOptions, type CircuitBreakerOptions } from "./circuit-breaker-options.js";
import { ResilienceEvents } from "./events.js";
import { finishNow, policyInterceptor, type ExecuteContext, type ExecuteOptions, type Policy } from "./policy.js";

export { DEFAULT_BREAKER_FAILURE_CODES, type CircuitBreakerOptions } from "./circuit-breaker-options.js";

/** Calls and failures counted in one slice of the sliding window. */
export interface WindowBucket {
  /** Start of the slice, in clock ms. */
  readonly startMs: number;
  readonly calls: number;
  readonly failures: number;
}

/**
 * The breaker's state: a serialisable discriminated union (`JSON.stringify`
 * it, pass it back as `initialState` to restore a breaker).
 */
export type CircuitBreakerState =
  | { readonly state: "closed"; readonly consecutiveFailures: number; readonly window: readonly WindowBucket[] }
  | { readonly state: "open"; readonly openedAtMs: number; readonly halfOpenAtMs: number }
  | { readonly state: "half-open"; readonly probesInFlight: number; readonly probeSuccesses: number };

/** The closed state as kept inside the breaker: updated in place on every call. */
interface ClosedInternal {
  readonly state: "closed";
  consecutiveFailures: number;
  window: { startMs: number; calls: number; failures: number }[];
}

type InternalState = ClosedInternal | Exclude<CircuitBreakerState, { state: "closed" }>;

/** How one call ended, for the breaker. */
type Outcome = "success" | "failure" | "ignored";

/** What a call admitted by the breaker carries until it ends. */
interface Permit {
  readonly generation: number;
  readonly probe: boolean;
}

/**
 * A circuit breaker with the common closed / open / half-open semantics
 * (Nygard, "Release It!"; resilience4j's count of calls and failure rate).
 *
 * - **closed**: calls pass; outcomes are counted in a sliding time window of
 *   `windowMs`. The breaker opens when, after any outcome, the window holds at
 *   least `minimumCalls` calls and `failures / calls ≥ failureRateThreshold`
 *   (as resilience4j: the rate is judged from the `minimumCalls`-th call on),
 *   or when `consecutiveFailures` failures happened in a row (if set).
 * - **open**: every call is rejected at once with UNAVAILABLE, `retryable`
 *   true (see {@link circuitOpenError}), for `openDurationMs`.
 * - **half-open**: then up to `halfOpenMaxCalls` probe calls pass at a time.
 *   When `halfOpenMaxCalls` probes have succeeded it closes (fresh window);
 *   the first probe failure opens it again. Other calls are rejected.
 *
 * Failures are the codes in `failureCodes`; CANCELLED is ignored; every
 * other outcome counts as a success (the server answered). Outcomes of calls
 * admitted in an earlier state are ignored. A streaming response counts as a
 * success when its headers arrive. The open → half-open move happens on the
 * first call (or {@link state} read) after `openDurationMs`, without a timer.
 */
export class CircuitBreaker implements Policy {
  /** The events of this breaker. */
  readonly events: ResilienceEvents;
  readonly #o: ReturnType<typeof checkBreakerOptions>;
  readonly #codes: ReadonlySet<Code>;
  readonly #name: string | undefined;
  #state: InternalState;
  #generation = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#o = checkBreakerOptions(options);
    this.#codes = new Set(this.#o.failureCodes);
    this.events = options.events ?? new ResilienceEvents();
    this.#name = options.name;
    this.#state = internal(options.initialState ?? closedState());
  }

  /** The current state (moves open → half-open first if `openDurationMs` has passed). */
  get state(): CircuitBreakerState {
    this.#maybeHalfOpen(undefined);
    const s = this.#state;
    return s.state === "closed" ? { state: "closed", consecutiveFailures: s.consecutiveFailures, window: s.window.map((b) => ({ ...b })) } : s;
  }

  /** The state as JSON-ready data; same as {@link state}. */
  toJSON(): CircuitBreakerState {
    return this.state;
  }

  /** Runs `fn` if the breaker admits it (see the class comment), and records its outcome. */
  async execute<T>(fn: (ctx: ExecuteContext) => Promise<T>, options: ExecuteOptions<T> = {}): Promise<T> {
    const permit = this.#admit(options.method);
    let result: T;
    try {
      result = await fn({ signal: options.signal, deadline: options.deadline, attempt: 1 });
    } catch (err) {
      const error = FerryError.from(err);
      this.#record(permit, this.#classify(error), options.method);
      throw error;
    }
    this.#record(permit, "success", options.method);
    return (options.finish ?? finishNow)(result, noop);
  }

  /** This breaker as a client interceptor. */
  interceptor(): Interceptor {
    return policyInterceptor(this);
  }

  #classify(error: FerryError): Outcome {
    if (error.code === Code.CANCELLED) return "ignored";
    return this.#codes.has(error.code) ? "failure" : "success";
  }

  /** Admits a call or throws the rejection. */
  #admit(method: string | undefined): Permit {
    this.#maybeHalfOpen(method);
    const s = this.#state;
    if (s.state === "closed") return { generation: this.#generation, probe: false };
    if (s.state === "half-open" && s.probesInFlight + s.probeSuccesses < this.#o.halfOpenMaxCalls) {
      this.#state = { ...s, probesInFlight: s.probesInFlight + 1 };
      return { generation: this.#generation, probe: true };
    }
    this.events.emit({ type: "breaker.rejected", policy: this.#name, method, state: s.state });
    const retryAfterMs = s.state === "open" ? s.halfOpenAtMs - this.#o.clock() : 0;
    throw circuitOpenError(this.#name, s.state, retryAfterMs);
  }

  #record(permit: Permit, outcome: Outcome, method: string | undefined): void {
    if (permit.generation !== this.#generation) return;
    const s = this.#state;
    if (s.state === "half-open" && permit.probe) return this.#recordProbe(s, outcome, method);
    if (s.state !== "closed" || outcome === "ignored") return;
    const failed = outcome === "failure";
    s.window = addToWindow(s.window, this.#o.clock(), this.#o.windowMs, this.#o.windowBuckets, failed);
    s.consecutiveFailures = failed ? s.consecutiveFailures + 1 : 0;
    if (this.#shouldOpen(s.window, s.consecutiveFailures)) this.#open("closed", method);
  }

  #recordProbe(s: Extract<CircuitBreakerState, { state: "half-open" }>, outcome: Outcome, method: string | undefined): void {
    if (outcome === "failure") return this.#open("half-open", method);
    const probeSuccesses = s.probeSuccesses + (outcome === "success" ? 1 : 0);
    this.#state = { state: "half-open", probesInFlight: s.probesInFlight - 1, probeSuccesses };
    if (probeSuccesses >= this.#o.halfOpenMaxCalls) {
      this.#transition(closedState());
      this.events.emit({ type: "breaker.closed", policy: this.#name, method });
    }
  }

  #shouldOpen(window: readonly WindowBucket[], consecutiveFailures: number): boolean {
    if (this.#o.consecutiveFailures > 0 && consecutiveFailures >= this.#o.consecutiveFailures) return true;
    let calls = 0;
    let failures = 0;
    for (const b of window) {
      calls += b.calls;
      failures += b.failures;
    }
    return calls >= this.#o.minimumCalls && failures / calls >= this.#o.failureRateThreshold;
  }

  #open(from: "closed" | "half-open", method: string | undefined): void {
    const openedAtMs = this.#o.clock();
    const halfOpenAtMs = openedAtMs + this.#o.openDurationMs;
    this.#transition({ state: "open", openedAtMs, halfOpenAtMs });
    this.events.emit({ type: "breaker.opened", policy: this.#name, method, from, halfOpenAtMs });
  }

  #maybeHalfOpen(method: string | undefined): void {
    const s = this.#state;
    if (s.state !== "open" || this.#o.clock() < s.halfOpenAtMs) return;
    this.#transition({ state: "half-open", probesInFlight: 0, probeSuccesses: 0 });
    this.events.emit({ type: "breaker.half-open", policy: this.#name, method, probes: this.#o.halfOpenMaxCalls });
  }

  #transition(next: CircuitBreakerState): void {
    this.#state = internal(next);
    this.#generation++;
  }
}

function noop(): void {}

function closedState(): CircuitBreakerState {
  return { state: "closed", consecutiveFailures: 0, window: [] };
}

/** A private, mutable copy of `state`. */
function internal(state: CircuitBreakerState): InternalState {
  if (state.state !== "closed") return { ...state };
  return { state: "closed", consecutiveFailures: state.consecutiveFailures, window: state.window.map((b) => ({ ...b })) };
}

/** Adds one outcome at `now` (in place when its slice is the newest), dropping slices older than `windowMs`. */
function addToWindow(window: ClosedInternal["window"], now: number, windowMs: number, buckets: number, failed: boolean): ClosedInternal["window"] {
  const bucketMs = windowMs / buckets;
  const startMs = Math.floor(now / bucketMs) * bucketMs;
  const last = window[window.length - 1];
  if (last !== undefined && last.startMs === startMs) {
    last.calls++;
    if (failed) last.failures++;
    return window;
  }
  const kept = window.filter((b) => b.startMs > now - windowMs && b.startMs < startMs);
  kept.push({ startMs, calls: 1, failures: failed ? 1 : 0 });
  return kept;
}

/** Creates a {@link CircuitBreaker}. */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new CircuitBreaker(options);
}
