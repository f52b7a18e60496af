import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { RetryOptions } from "../resilience/retry.js";

/** What an action or compensation of a saga step receives. */
export interface SagaStepContext<Input> {
  /** The saga's id (given to `begin`, or a random UUID). */
  readonly sagaId: string;
  /** The saga's input, as persisted (JSON). */
  readonly input: Input;
  /** Results of the steps whose actions completed, by step name, as persisted (JSON). */
  readonly results: Readonly<Record<string, unknown>>;
  /**
   * `<sagaId>:<step>` for the action, `<sagaId>:<step>:compensation` for the
   * compensation: the same on every attempt and after a resume, so the
   * callee can apply the command once (pass it on, e.g. as metadata).
   */
  readonly idempotencyKey: string;
  /** `{ "idempotency-key": idempotencyKey }`, ready for an RPC's `CallOptions.metadata`. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Fires when the attempt times out or the runner stops; pass it to the call (`CallOptions.signal`). */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … (counted within this run of the runner). */
  readonly attempt: number;
}

/** What a compensation receives: the step context plus the action's result. */
export interface SagaCompensationContext<Input> extends SagaStepContext<Input> {
  /**
   * The action's persisted result, or `undefined` when the action failed or
   * its outcome is unknown (it timed out, or the runner crashed during it):
   * the compensation must then undo whatever the action may have done under
   * the action's idempotency key, and do nothing if it did nothing.
   */
  readonly result: unknown;
  /** The action's idempotency key (`<sagaId>:<step>`), to look up what to undo. */
  readonly actionKey: string;
  /** Why the saga is compensating: the failed action's error as `CODE: message`, e.g. for a "payment failed" event. */
  readonly failure: string;
}

/** One step of a saga: an action (usually an RPC) and the compensation that undoes it. */
export interface SagaStep<Input = unknown> {
  /** Unique within the saga: letters, digits, `_`, `-`, `.`; at most 100 characters. */
  readonly name: string;
  /**
   * Does the step's work; resolves with a JSON-serialisable result that is
   * persisted (`undefined` is stored as `null`). Rejecting after the retries
   * fails the step: the saga compensates.
   */
  readonly action: (ctx: SagaStepContext<Input>) => Promise<unknown>;
  /** Undoes the action; must be idempotent. Steps without one (reads, the last pivot step) are skipped when compensating. */
  readonly compensation?: (ctx: SagaCompensationContext<Input>) => Promise<void>;
  /** Time one attempt of the action or compensation may take, in ms. Default: the saga's `stepTimeoutMs`. */
  readonly timeoutMs?: number;
  /** Retry of the action (resilience's {@link RetryOptions}). Default: the saga's `stepRetry`. */
  readonly retry?: RetryOptions;
}

/** Options of {@link defineSaga}. */
export interface SagaOptions<Input> {
  /** The steps, run in order; compensations run in reverse order. At least one. */
  steps: readonly SagaStep<Input>[];
  /** Default per-attempt timeout of a step, in ms. Default 30 000. */
  stepTimeoutMs?: number;
  /**
   * Default retry of an action. Default: 3 attempts, 100 ms doubling backoff,
   * retrying UNAVAILABLE, DEADLINE_EXCEEDED and ABORTED (safe: the callee
   * de-duplicates by idempotency key).
   */
  stepRetry?: RetryOptions;
  /**
   * Retry of a compensation: every error is retried. When they are used up
   * the saga is marked `needs_attention` with the error as the reason.
   * Default: 10 attempts, 100 ms doubling to 10 s.
   */
  compensationRetry?: Omit<RetryOptions, "retryableStatusCodes">;
}

/** A saga definition: give it to a saga runner, then `begin` it with an input. */
export interface SagaDefinition<Input = unknown> {
  readonly name: string;
  readonly steps: readonly SagaStep<Input>[];
  readonly stepTimeoutMs: number;
  readonly stepRetry: RetryOptions;
  readonly compensationRetry: RetryOptions;
}

/** Every status code: compensations retry whatever failed them. */
const allCodes: Code[] = Object.values(Code).filter((c): c is Code => typeof c === "number" && c !== Code.OK);

const namePattern = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * Defines an orchestrated saga (Garcia-Molina & Salem, "Sagas", 1987; the
 * orchestration shape of Temporal's saga sample): steps run in order, each
 * persisted once done; when one fails for good, the compensations of it and
 * every step before it run in reverse order.
 *
 * @throws FerryError INVALID_ARGUMENT for a bad name, no steps, duplicate
 *   step names, a step without an action function, or bad timeouts.
 */
export function defineSaga<Input = unknown>(name: string, options: SagaOptions<Input>): SagaDefinition<Input> {
  if (typeof name !== "string" || !namePattern.test(name)) throw invalid(`saga name "${String(name)}" is invalid: use 1–100 letters, digits, "_", "-", "."`);
  const steps = options?.steps;
  if (!Array.isArray(steps) || steps.length === 0) throw invalid(`saga "${name}" needs at least one step`);
  const seen = new Set<string>();
  for (const step of steps) {
    if (typeof step?.name !== "string" || !namePattern.test(step.name)) throw invalid(`saga "${name}" has a step with an invalid name "${String(step?.name)}"`);
    if (seen.has(step.name)) throw invalid(`saga "${name}" has two steps named "${step.name}"`);
    seen.add(step.name);
    if (typeof step.action !== "function") throw invalid(`step "${step.name}" of saga "${name}" needs an action function`);
    if (step.compensation !== undefined && typeof step.compensation !== "function") throw invalid(`step "${step.name}" has a compensation that is not a function`);
    if (step.timeoutMs !== undefined) checkTimeout(`step "${step.name}" timeoutMs`, step.timeoutMs);
  }
  const stepTimeoutMs = checkTimeout("stepTimeoutMs", options.stepTimeoutMs ?? 30_000);
  return Object.freeze({
    name,
    steps: Object.freeze([...steps]),
    stepTimeoutMs,
    stepRetry: options.stepRetry ?? { maxAttempts: 3, retryableStatusCodes: [Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.ABORTED] },
    compensationRetry: { maxAttempts: 10, initialBackoffMs: 100, maxBackoffMs: 10_000, ...options.compensationRetry, retryableStatusCodes: allCodes },
  });
}

function checkTimeout(what: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw invalid(`${what} must be a finite number of ms > 0, got ${value}`);
  return value;
}

function invalid(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, message);
}
