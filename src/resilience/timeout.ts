import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { ResilienceEvents } from "./events.js";
import { finishNow, invoke, policyInterceptor, type ExecuteContext, type ExecuteOptions, type Policy } from "./policy.js";
import { LinkedAbort } from "./signals.js";

/** Options of {@link TimeoutPolicy}. */
export interface TimeoutOptions {
  /** Time the whole call may take, in milliseconds (finite, ≥ 0). Required. */
  timeoutMs: number;
  /** Where the `timeout` event goes. Default: a new emitter, as `policy.events`. */
  events?: ResilienceEvents;
  /** Name carried in events. */
  name?: string;
}

/**
 * Bounds the time of the work, as gRPC's service config `timeout` does
 * (gRFC A6 / service config: the call's deadline is the earlier of the
 * caller's and the configured one).
 *
 * The work gets its own signal, linked to the caller's, and the deadline
 * `min(caller's deadline, now + timeoutMs)`. When the time runs out the signal
 * fires with DEADLINE_EXCEEDED — so the transport really stops the call — and
 * `execute` rejects at once with that DEADLINE_EXCEEDED FerryError (not
 * retryable). For a streaming response the time covers the whole stream.
 *
 * @throws FerryError INVALID_ARGUMENT from the constructor for a bad `timeoutMs`.
 */
export class TimeoutPolicy implements Policy {
  /** The time the work may take, in ms. */
  readonly timeoutMs: number;
  /** The events of this policy. */
  readonly events: ResilienceEvents;
  readonly #name: string | undefined;

  constructor(options: TimeoutOptions) {
    if (!(options.timeoutMs >= 0) || !Number.isFinite(options.timeoutMs)) {
      throw new FerryError(Code.INVALID_ARGUMENT, `timeoutMs must be a finite number >= 0, got ${options.timeoutMs}`);
    }
    this.timeoutMs = options.timeoutMs;
    this.events = options.events ?? new ResilienceEvents();
    this.#name = options.name;
  }

  /** Runs `fn` under the timeout (see the class comment). */
  execute<T>(fn: (ctx: ExecuteContext) => Promise<T>, options: ExecuteOptions<T> = {}): Promise<T> {
    const link = new LinkedAbort(options.signal);
    const ownDeadline = Date.now() + this.timeoutMs;
    const deadline = options.deadline !== undefined && options.deadline < ownDeadline ? options.deadline : ownDeadline;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const release = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        link.release();
      };
      timer = setTimeout(() => {
        timer = undefined;
        const error = new FerryError(Code.DEADLINE_EXCEEDED, `timeout of ${this.timeoutMs} ms exceeded`);
        if (this.events.wants("timeout")) this.events.emit({ type: "timeout", policy: this.#name, method: options.method, timeoutMs: this.timeoutMs });
        link.abort(error);
        link.release();
        reject(error);
      }, this.timeoutMs);
      invoke(fn, { signal: link.signal, deadline, attempt: 1 }).then(
        (result) => resolve((options.finish ?? finishNow)(result, release)),
        (err: unknown) => {
          release();
          reject(FerryError.from(err));
        },
      );
    });
  }

  /** This policy as a client interceptor. */
  interceptor(): Interceptor {
    return policyInterceptor(this);
  }
}

/** Creates a {@link TimeoutPolicy}. */
export function createTimeout(options: TimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(options);
}
