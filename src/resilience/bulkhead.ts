import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { ResilienceEvents } from "./events.js";
import { finishNow, policyInterceptor, type ExecuteContext, type ExecuteOptions, type Policy } from "./policy.js";
import { abortError } from "./signals.js";

/** Options of {@link Bulkhead}. */
export interface BulkheadOptions {
  /** Calls running at once (integer ≥ 1). Default 64. */
  maxConcurrent?: number;
  /** Calls waiting for a slot, in arrival order (integer ≥ 0). Default 0: no queue. */
  maxQueued?: number;
  /** Where events go. Default: a new emitter, as `bulkhead.events`. */
  events?: ResilienceEvents;
  /** Name carried in events and in the rejection message. */
  name?: string;
}

/** Default {@link BulkheadOptions.maxConcurrent}: 64. */
export const DEFAULT_MAX_CONCURRENT = 64;

interface Waiter {
  readonly grant: () => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/**
 * A bulkhead (Nygard, "Release It!"): isolates a dependency by bounding the
 * calls made to it at once. Up to `maxConcurrent` calls run; the next
 * `maxQueued` wait first-in, first-out for a slot (leaving the queue with the
 * signal's reason if their signal fires); any call beyond that is rejected at
 * once with RESOURCE_EXHAUSTED (not retryable). A streaming response holds
 * its slot until the stream ends.
 *
 * @throws FerryError INVALID_ARGUMENT from the constructor for out-of-range options.
 */
export class Bulkhead implements Policy {
  /** Calls running at once (see {@link BulkheadOptions.maxConcurrent}). */
  readonly maxConcurrent: number;
  /** Calls waiting at most (see {@link BulkheadOptions.maxQueued}). */
  readonly maxQueued: number;
  /** The events of this bulkhead. */
  readonly events: ResilienceEvents;
  readonly #name: string | undefined;
  readonly #queue: Waiter[] = [];
  #active = 0;

  constructor(options: BulkheadOptions = {}) {
    this.maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
    this.maxQueued = options.maxQueued ?? 0;
    if (!Number.isInteger(this.maxConcurrent) || this.maxConcurrent < 1) {
      throw new FerryError(Code.INVALID_ARGUMENT, `bulkhead: maxConcurrent must be an integer >= 1, got ${options.maxConcurrent}`);
    }
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < 0) {
      throw new FerryError(Code.INVALID_ARGUMENT, `bulkhead: maxQueued must be an integer >= 0, got ${options.maxQueued}`);
    }
    this.events = options.events ?? new ResilienceEvents();
    this.#name = options.name;
  }

  /** Calls running now. */
  get active(): number {
    return this.#active;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Runs `fn` in a slot (waiting in the queue if need be), or rejects with RESOURCE_EXHAUSTED when full. */
  async execute<T>(fn: (ctx: ExecuteContext) => Promise<T>, options: ExecuteOptions<T> = {}): Promise<T> {
    if (options.signal?.aborted) throw abortError(options.signal);
    if (this.#active < this.maxConcurrent) this.#active++;
    else await this.#enqueue(options);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#release();
    };
    let result: T;
    try {
      result = await fn({ signal: options.signal, deadline: options.deadline, attempt: 1 });
    } catch (err) {
      release();
      throw FerryError.from(err);
    }
    return (options.finish ?? finishNow)(result, release);
  }

  /** This bulkhead as a client interceptor. */
  interceptor(): Interceptor {
    return policyInterceptor(this);
  }

  #enqueue(options: { signal?: AbortSignal; method?: string }): Promise<void> {
    if (this.#queue.length >= this.maxQueued) {
      this.events.emit({ type: "bulkhead.rejected", policy: this.#name, method: options.method, active: this.#active, queued: this.#queue.length });
      const who = this.#name === undefined ? "bulkhead" : `bulkhead "${this.#name}"`;
      throw new FerryError(Code.RESOURCE_EXHAUSTED, `${who} is full: ${this.#active} calls running, ${this.#queue.length} queued`);
    }
    const signal = options.signal;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        signal,
        grant: () => {
          signal?.removeEventListener("abort", waiter.onAbort);
          resolve();
        },
        onAbort: () => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(abortError(signal!));
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /** Hands the slot to the first waiter, or frees it. */
  #release(): void {
    const next = this.#queue.shift();
    if (next !== undefined) next.grant();
    else this.#active--;
  }
}

/** Creates a {@link Bulkhead}. */
export function createBulkhead(options: BulkheadOptions = {}): Bulkhead {
  return new Bulkhead(options);
}
