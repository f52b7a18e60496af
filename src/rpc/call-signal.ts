import { currentCallContext, type CallContext } from "./call-context.js";
import { Code } from "./code.js";
import { FerryError } from "./ferry-error.js";

/** The cancellation state of one client call. */
export interface CallSignal {
  /** Absolute deadline (ms since the epoch), or `undefined`. */
  readonly deadline: number | undefined;
  /** Fires with a FerryError on cancellation or deadline; `undefined` when nothing can cancel the call. */
  readonly signal: AbortSignal | undefined;
  /** The server call this call inherits from, if any. */
  readonly parent: CallContext | undefined;
  /** Cancels the call (CANCELLED), e.g. when a stream consumer stops early. */
  cancel(reason?: FerryError): void;
  /** Releases the timer and listeners. Call once the call is over. */
  dispose(): void;
}

interface SignalInput {
  timeoutMs?: number;
  signal?: AbortSignal;
  parent?: CallContext | null;
}

const inert: CallSignal = { deadline: undefined, signal: undefined, parent: undefined, cancel() {}, dispose() {} };

/**
 * Combines a call's timeout, the caller's signal and the parent server call
 * into one deadline and one signal. Costs nothing when none is present and
 * `forceSignal` is false (a unary call without timeout or signal).
 */
export function createCallSignal(input: SignalInput, forceSignal: boolean): CallSignal {
  const parent = input.parent === null ? undefined : (input.parent ?? currentCallContext());
  let deadline = input.timeoutMs === undefined ? undefined : Date.now() + checkTimeout(input.timeoutMs);
  if (parent?.deadline !== undefined && (deadline === undefined || parent.deadline < deadline)) deadline = parent.deadline;
  if (!forceSignal && deadline === undefined && input.signal === undefined && parent === undefined) return inert;
  return new LinkedCallSignal(deadline, input.signal, parent);
}

function checkTimeout(ms: number): number {
  if (!(ms >= 0) || !Number.isFinite(ms)) {
    throw new FerryError(Code.INVALID_ARGUMENT, `timeoutMs must be a finite number >= 0, got ${ms}`);
  }
  return ms;
}

class LinkedCallSignal implements CallSignal {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #unlink: (() => void)[] = [];

  constructor(
    readonly deadline: number | undefined,
    userSignal: AbortSignal | undefined,
    readonly parent: CallContext | undefined,
  ) {
    if (deadline !== undefined) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) this.cancel(deadlineError());
      else this.#timer = setTimeout(() => this.cancel(deadlineError()), remaining);
    }
    if (userSignal !== undefined) this.#link(userSignal, () => callerAbortError(userSignal.reason));
    if (parent !== undefined) {
      const ps = parent.signal;
      this.#link(ps, () => {
        const r = FerryError.from(ps.reason);
        return new FerryError(r.code, `parent call ended: ${r.rawMessage}`);
      });
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  cancel(reason: FerryError = new FerryError(Code.CANCELLED, "call cancelled")): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const u of this.#unlink) u();
    this.#unlink.length = 0;
  }

  #link(source: AbortSignal, reason: () => FerryError): void {
    if (source.aborted) {
      this.cancel(reason());
      return;
    }
    const onAbort = () => this.cancel(reason());
    source.addEventListener("abort", onAbort, { once: true });
    this.#unlink.push(() => source.removeEventListener("abort", onAbort));
  }
}

function deadlineError(): FerryError {
  return new FerryError(Code.DEADLINE_EXCEEDED, "deadline exceeded");
}

/** A caller's abort reason as a FerryError: kept if it is one, DEADLINE_EXCEEDED for a TimeoutError, else CANCELLED. */
function callerAbortError(reason: unknown): FerryError {
  if (reason instanceof FerryError) return reason;
  if ((reason as Error | undefined)?.name === "TimeoutError") return new FerryError(Code.DEADLINE_EXCEEDED, "deadline exceeded (caller's signal)", { cause: reason });
  return new FerryError(Code.CANCELLED, "call cancelled by the caller", { cause: reason });
}
