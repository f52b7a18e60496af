import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { headersReceived, pushbackOf } from "./attempt-outcome.js";
import { ResilienceEvents } from "./events.js";
import { finishNow, invoke, policyInterceptor, type ExecuteContext, type ExecuteOptions, type Policy } from "./policy.js";
import type { RetryThrottle } from "./retry-throttle.js";
import { abortError, LinkedAbort } from "./signals.js";

/** Options of {@link HedgingPolicy}; gRFC A6 `hedgingPolicy` in Ferry's units. */
export interface HedgingOptions {
  /** Attempts in all, the first included (integer ≥ 1). Default 2. */
  maxAttempts?: number;
  /** Delay between sending one attempt and the next, in ms (≥ 0). Default 0: all at once, as gRFC A6. */
  hedgingDelayMs?: number;
  /**
   * Codes after which the other attempts go on (and the next one is sent at
   * once); any other failure is fatal: it cancels every attempt and is the
   * result. Default [] (every failure is fatal, as gRFC A6).
   */
  nonFatalStatusCodes?: readonly Code[];
  /** Retry throttling shared with the retries to the same server (gRFC A6). Default none. */
  throttle?: RetryThrottle;
  /** Where events go. Default: a new emitter, as `policy.events`. */
  events?: ResilienceEvents;
  /** Name carried in events. */
  name?: string;
}

/** Reason the losing attempts are cancelled with. */
const lostError = (): FerryError => new FerryError(Code.CANCELLED, "hedged attempt cancelled: another attempt won");

/**
 * Hedging from gRFC A6: sends the first attempt, then another every
 * `hedgingDelayMs` until `maxAttempts` are in flight or one succeeds. The
 * first success (for a stream: the first response whose headers arrive)
 * wins; every other attempt is cancelled through its own signal.
 *
 * - A failure with a code in `nonFatalStatusCodes` lets the others go on and
 *   sends the next attempt at once; a `grpc-retry-pushback-ms` trailer delays
 *   it by that many ms instead, and a negative or invalid one sends no more.
 * - Any other failure (or one after response headers) is fatal: the other
 *   attempts are cancelled and `execute` rejects with it.
 * - With a {@link RetryThrottle}, non-fatal failures cost a token, successes
 *   add `tokenRatio`, and no further attempt is sent while tokens ≤ maxTokens / 2.
 * - When every sent attempt failed and no more may be sent, `execute`
 *   rejects with the last failure; when the caller's signal fires, with its reason.
 *
 * @throws FerryError INVALID_ARGUMENT from the constructor for out-of-range options.
 */
export class HedgingPolicy implements Policy {
  /** Attempts in all (see {@link HedgingOptions.maxAttempts}). */
  readonly maxAttempts: number;
  /** Delay between attempts, in ms (see {@link HedgingOptions.hedgingDelayMs}). */
  readonly hedgingDelayMs: number;
  /** The events of this policy. */
  readonly events: ResilienceEvents;
  readonly #nonFatal: ReadonlySet<Code>;
  readonly #throttle: RetryThrottle | undefined;
  readonly #name: string | undefined;

  constructor(options: HedgingOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 2;
    this.hedgingDelayMs = options.hedgingDelayMs ?? 0;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new FerryError(Code.INVALID_ARGUMENT, `maxAttempts must be an integer >= 1, got ${options.maxAttempts}`);
    }
    if (!(this.hedgingDelayMs >= 0) || !Number.isFinite(this.hedgingDelayMs)) {
      throw new FerryError(Code.INVALID_ARGUMENT, `hedgingDelayMs must be a finite number >= 0, got ${options.hedgingDelayMs}`);
    }
    this.#nonFatal = new Set(options.nonFatalStatusCodes ?? []);
    this.#throttle = options.throttle;
    this.events = options.events ?? new ResilienceEvents();
    this.#name = options.name;
  }

  /** Whether `error` lets the other attempts go on. */
  isNonFatal(error: FerryError): boolean {
    return !headersReceived(error) && this.#nonFatal.has(error.code);
  }

  /** Runs `fn` hedged (see the class comment). */
  execute<T>(fn: (ctx: ExecuteContext) => Promise<T>, options: ExecuteOptions<T> = {}): Promise<T> {
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    return new Promise<T>((resolve, reject) => {
      new HedgedCall(this, this.#throttle, this.#name, fn, options, resolve, reject).start();
    });
  }

  /**
   * This policy as a client interceptor. Calls with a request stream pass
   * through untouched: their request stream cannot be replayed.
   */
  interceptor(): Interceptor {
    return policyInterceptor(this, { requestStreams: false });
  }
}

/** The state of one hedged call. */
class HedgedCall<T> {
  readonly #attempts = new Set<LinkedAbort>();
  #sent = 0;
  #timer: NodeJS.Timeout | undefined;
  #noMore = false;
  #settled = false;
  #lastError: FerryError | undefined;

  constructor(
    private readonly policy: HedgingPolicy,
    private readonly throttle: RetryThrottle | undefined,
    private readonly name: string | undefined,
    private readonly fn: (ctx: ExecuteContext) => Promise<T>,
    private readonly options: ExecuteOptions<T>,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: FerryError) => void,
  ) {}

  start(): void {
    this.options.signal?.addEventListener("abort", this.#onCallerAbort, { once: true });
    this.#launch();
  }

  readonly #onCallerAbort = (): void => this.#fail(abortError(this.options.signal!));

  #launch(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#settled || this.#noMore || this.#sent >= this.policy.maxAttempts) return this.#failIfIdle();
    if (this.#sent > 0 && this.throttle !== undefined && !this.throttle.canRetry()) {
      const { tokens, maxTokens } = this.throttle;
      this.policy.events.emit({ type: "retry.throttled", policy: this.name, method: this.options.method, tokens, maxTokens, error: this.#lastError });
      this.#noMore = true;
      return this.#failIfIdle();
    }
    const attempt = ++this.#sent;
    if (attempt > 1 && this.policy.events.wants("hedge.attempt")) {
      this.policy.events.emit({ type: "hedge.attempt", policy: this.name, method: this.options.method, attempt });
    }
    const link = new LinkedAbort(this.options.signal);
    this.#attempts.add(link);
    invoke(this.fn, { signal: link.signal, deadline: this.options.deadline, attempt }).then(
      (result) => this.#succeeded(link, result),
      (err: unknown) => this.#failed(link, FerryError.from(err)),
    );
    if (attempt >= this.policy.maxAttempts || this.#settled) return;
    if (this.policy.hedgingDelayMs === 0) this.#launch();
    else this.#schedule(this.policy.hedgingDelayMs);
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#launch(), ms);
  }

  #succeeded(link: LinkedAbort, result: T): void {
    this.#attempts.delete(link);
    if (this.#settled) {
      // A late winner: the call is over, so cancel and release this one too.
      link.abort(lostError());
      link.release();
      return;
    }
    this.throttle?.recordSuccess();
    this.#end();
    this.resolve((this.options.finish ?? finishNow)(result, link.release));
  }

  #failed(link: LinkedAbort, error: FerryError): void {
    this.#attempts.delete(link);
    link.release();
    if (this.#settled) return;
    if (!this.policy.isNonFatal(error)) return this.#fail(error);
    this.throttle?.recordFailure();
    this.#lastError = error;
    const pushback = pushbackOf(error);
    if (pushback === "stop") {
      this.policy.events.emit({ type: "retry.pushback-stop", policy: this.name, method: this.options.method, error });
      this.#noMore = true;
      return this.#failIfIdle();
    }
    if (pushback !== undefined && this.#sent < this.policy.maxAttempts) return this.#schedule(pushback);
    this.#launch();
  }

  /** Rejects with the last failure once nothing is in flight and nothing more will be sent. */
  #failIfIdle(): void {
    const more = !this.#noMore && this.#sent < this.policy.maxAttempts;
    if (!more && this.#attempts.size === 0) this.#fail(this.#lastError ?? new FerryError(Code.UNAVAILABLE, "no hedged attempt could be sent"));
  }

  #fail(error: FerryError): void {
    if (this.#settled) return;
    this.#end();
    this.reject(error);
  }

  /** Settles: stops the timer, cancels the attempts still running, unlinks from the caller. */
  #end(): void {
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.options.signal?.removeEventListener("abort", this.#onCallerAbort);
    for (const link of this.#attempts) {
      link.abort(lostError());
      link.release();
    }
    this.#attempts.clear();
  }
}

/** Creates a {@link HedgingPolicy}. */
export function createHedging(options: HedgingOptions = {}): HedgingPolicy {
  return new HedgingPolicy(options);
}
