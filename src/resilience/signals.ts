import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/**
 * The reason an `AbortSignal` fired, as a FerryError: a FerryError reason is
 * kept; a `TimeoutError` becomes DEADLINE_EXCEEDED; anything else CANCELLED.
 */
export function abortError(signal: AbortSignal): FerryError {
  const reason: unknown = signal.reason;
  if (reason instanceof FerryError) return reason;
  if ((reason as Error | undefined)?.name === "TimeoutError") {
    return new FerryError(Code.DEADLINE_EXCEEDED, "deadline exceeded", { cause: reason });
  }
  return new FerryError(Code.CANCELLED, "call cancelled", { cause: reason });
}

/**
 * An `AbortController` linked to a parent signal: it aborts when the parent
 * does (with the parent's reason), and can be aborted on its own without
 * touching the parent. {@link release} removes the listener on the parent;
 * call it once the work the signal guards is over, or listeners pile up on
 * long-lived parents.
 */
export class LinkedAbort {
  readonly #controller = new AbortController();
  #parent: AbortSignal | undefined;

  constructor(parent: AbortSignal | undefined) {
    if (parent === undefined) return;
    if (parent.aborted) {
      this.#controller.abort(parent.reason);
      return;
    }
    this.#parent = parent;
    parent.addEventListener("abort", this.#onParentAbort, { once: true });
  }

  /** The child signal to hand to the work. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Aborts the child signal (not the parent) with `reason`, once. */
  abort(reason: FerryError): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Unlinks from the parent. Idempotent. */
  readonly release = (): void => {
    if (this.#parent === undefined) return;
    this.#parent.removeEventListener("abort", this.#onParentAbort);
    this.#parent = undefined;
  };

  readonly #onParentAbort = (): void => {
    const parent = this.#parent;
    this.#parent = undefined;
    if (parent !== undefined) this.abort(parent.reason as FerryError);
  };
}

/**
 * Resolves after `ms` milliseconds, or rejects with the signal's reason (as
 * a FerryError) as soon as `signal` fires. Leaves no timer and no listener
 * behind either way.
 */
export function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Wraps an async iterable so that `release` runs exactly once when iteration
 * ends: at its end, on an error, or when the consumer stops early (`return`),
 * even before the first `next()`.
 */
export function releasingIterable<T>(source: AsyncIterable<T>, release: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = source[Symbol.asyncIterator]();
      let released = false;
      const done = (): void => {
        if (released) return;
        released = true;
        release();
      };
      return {
        async next(): Promise<IteratorResult<T>> {
          try {
            const r = await it.next();
            if (r.done === true) done();
            return r;
          } catch (err) {
            done();
            throw err;
          }
        },
        async return(value?: unknown): Promise<IteratorResult<T>> {
          done();
          return it.return !== undefined ? it.return(value) : { done: true, value: value as T };
        },
        async throw(err?: unknown): Promise<IteratorResult<T>> {
          done();
          if (it.throw !== undefined) return it.throw(err);
          throw err;
        },
      };
    },
  };
}
