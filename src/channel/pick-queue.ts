import type { AnyRequest } from "../rpc/call.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Picker } from "./picker.js";
import type { Subchannel } from "./subchannel.js";

/** One call waiting for a subchannel. */
interface Waiter {
  readonly request: AnyRequest;
  settle(subchannel: Subchannel | undefined, error?: FerryError): void;
}

/** How the queue explains why calls are still waiting, and which picks fail. */
export interface PickQueueOptions {
  /** Whether TRANSIENT_FAILURE picks wait (true) or fail at once (false). */
  readonly waitForReady: boolean;
  /** How long a call without a deadline waits, in ms. */
  readonly timeoutMs: number;
  /** A sentence on why nothing is ready, for error messages. */
  describe(): string;
}

/**
 * Calls waiting for a ready subchannel (gRPC's queued picks, "wait for
 * ready"). Each waiting call is retried against every new picker; it leaves
 * the queue when a pick completes, on its signal (CANCELLED, or
 * DEADLINE_EXCEEDED), at its deadline (DEADLINE_EXCEEDED) or, without a
 * deadline, after `timeoutMs` (UNAVAILABLE). Every waiter's timer and signal
 * listener are removed when it leaves.
 */
export class PickQueue {
  readonly #waiters = new Set<Waiter>();

  constructor(private readonly options: PickQueueOptions) {}

  /** Number of waiting calls. */
  get size(): number {
    return this.#waiters.size;
  }

  /** Waits until `picker` (or a later one given to {@link update}) completes a pick for `request`. */
  wait(request: AnyRequest): Promise<Subchannel> {
    return new Promise<Subchannel>((resolve, reject) => {
      const signal = request.signal;
      if (signal?.aborted) return reject(this.#abortError(signal.reason));
      const onAbort = () => waiter.settle(undefined, this.#abortError(signal?.reason));
      const waiter: Waiter = {
        request,
        settle: (subchannel, error) => {
          if (!this.#waiters.delete(waiter)) return;
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          if (subchannel !== undefined) resolve(subchannel);
          else reject(error);
        },
      };
      const deadline = request.deadline;
      // settle() only runs from the timer, the signal or a later update, all after this line.
      const timer = deadline !== undefined
        ? setTimeout(() => waiter.settle(undefined, this.#deadlineError()), Math.max(0, deadline - Date.now()))
        : setTimeout(() => waiter.settle(undefined, this.#timeoutError()), this.options.timeoutMs);
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Re-picks every waiting call with `picker`. */
  update(picker: Picker): void {
    for (const w of [...this.#waiters]) {
      const r = picker.pick(w.request);
      if (r.type === "COMPLETE") w.settle(r.subchannel);
      else if (r.type === "DROP") w.settle(undefined, r.error);
      else if (r.type === "TRANSIENT_FAILURE" && !this.options.waitForReady) w.settle(undefined, r.error);
    }
  }

  /** Fails every waiting call with `error`. */
  failAll(error: FerryError): void {
    for (const w of [...this.#waiters]) w.settle(undefined, error);
  }

  #abortError(reason: unknown): FerryError {
    const e = FerryError.from(reason);
    return e.code === Code.DEADLINE_EXCEEDED ? this.#deadlineError() : e;
  }

  #deadlineError(): FerryError {
    return new FerryError(Code.DEADLINE_EXCEEDED, `deadline exceeded while waiting for a ready endpoint: ${this.options.describe()}`);
  }

  #timeoutError(): FerryError {
    return new FerryError(Code.UNAVAILABLE, `no ready endpoint after waiting ${this.options.timeoutMs} ms: ${this.options.describe()}`);
  }
}
