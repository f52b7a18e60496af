import { randomUUID } from "node:crypto";
import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import { Code, codeName } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { TypedEvents } from "../util/typed-events.js";
import { FaultPoint, type FaultHook } from "./fault-hook.js";
import type { SagaDefinition } from "./saga-definition.js";
import { SagaSql, type SagaState, type SagaStatusName, type SagaTransition, type SagaTransitionKind, type SagaUpdate } from "./saga-sql.js";
import { runAction, runCompensation } from "./saga-step.js";
import { recordTransition, SagaTrace } from "./saga-tracing.js";
import type { SqlStore } from "./sql-store.js";

/** Options of {@link createSagaRunner}. */
export interface SagaRunnerOptions {
  /** Where saga state is persisted. */
  store: SqlStore;
  /** The sagas this runner executes and resumes (others in the same table are left alone). */
  sagas: readonly SagaDefinition<never>[];
  /**
   * This runner's identity, the owner of its leases. Give each service
   * instance a stable id (e.g. its host name) so that after a restart it
   * resumes its in-flight sagas at once instead of after `leaseMs`. Two live
   * runners must never share an id (both would execute the same sagas). Default: a random UUID.
   */
  runnerId?: string;
  /** How long a saga stays leased to a runner without a persisted step or renewal, in ms. Default 30 000. */
  leaseMs?: number;
  /** Interval between scans for in-flight sagas whose runner died, in ms. Default 5 000. */
  resumeIntervalMs?: number;
  /** Most sagas claimed per scan. Default 100. */
  resumeBatchSize?: number;
  /** Logger. Default: Ferry's pino logger. */
  logger?: Logger;
  /** For crash-injection tests only: called at {@link FaultPoint}s. */
  faultHook?: FaultHook;
}

/** A saga's queryable status. */
export interface SagaStatus extends SagaState {
  /** Every persisted transition, oldest first. */
  readonly history: readonly SagaTransition[];
}

/** Events of a {@link SagaRunner}: one per persisted transition. */
export interface SagaRunnerEventMap {
  transition: { readonly sagaId: string; readonly saga: string; readonly kind: SagaTransitionKind; readonly step: string | null; readonly status: SagaStatusName };
}

/** Statuses after which a saga does nothing more. */
export const finalSagaStatuses: ReadonlySet<SagaStatusName> = new Set(["committed", "compensated", "needs_attention"]);

/**
 * Executes sagas and resumes them after a crash. State is persisted after
 * every step (one transaction per transition, with an entry in
 * `ferry_saga_log`), so a restarted runner continues from the last persisted
 * step: the action or compensation in flight at the crash runs again with
 * the same idempotency key. Runners share sagas through leases: a saga
 * belongs to one runner until its lease expires unrenewed.
 */
export interface SagaRunner {
  /** Starts resuming in-flight sagas (now, then every `resumeIntervalMs`). */
  start(): Promise<void>;
  /**
   * Persists a new saga and starts executing it; resolves with its id once
   * persisted. With `options.sagaId` of an existing saga of the same
   * definition, does nothing and resolves with the id (an idempotent begin).
   * @throws FerryError INVALID_ARGUMENT for a saga this runner was not given or an input that is not JSON;
   *   ALREADY_EXISTS when the id belongs to another saga definition; FAILED_PRECONDITION after `stop()`.
   */
  begin<I>(saga: SagaDefinition<I>, input: I, options?: { sagaId?: string }): Promise<string>;
  /** `begin`, then {@link wait}. */
  run<I>(saga: SagaDefinition<I>, input: I, options?: { sagaId?: string }): Promise<SagaStatus>;
  /** Resolves with the saga's status once it is final (committed, compensated, needs_attention). NOT_FOUND for an unknown id. */
  wait(sagaId: string, options?: { pollIntervalMs?: number; signal?: AbortSignal }): Promise<SagaStatus>;
  /** The saga's status now, or `undefined`. */
  status(sagaId: string): Promise<SagaStatus | undefined>;
  /** Compensates a `needs_attention` saga again (after its cause was fixed). Resolves false if it is not in that status. */
  retry(sagaId: string): Promise<boolean>;
  /** Stops: no new steps start; the step in flight is aborted and rerun by whoever resumes the saga; leases are released. */
  stop(): Promise<void>;
  readonly events: TypedEvents<SagaRunnerEventMap>;
}

/** Creates a {@link SagaRunner}. Raises INVALID_ARGUMENT for bad options or two sagas of one name. */
export function createSagaRunner(options: SagaRunnerOptions): SagaRunner {
  return new Runner(options);
}

class Runner implements SagaRunner {
  readonly events = new TypedEvents<SagaRunnerEventMap>();
  readonly #store: SqlStore;
  readonly #sql: SagaSql;
  readonly #sagas = new Map<string, SagaDefinition<unknown>>();
  readonly #id: string;
  readonly #leaseMs: number;
  readonly #resumeIntervalMs: number;
  readonly #batch: number;
  readonly #logger: Logger;
  readonly #fault: FaultHook | undefined;
  readonly #active = new Map<string, Promise<void>>();
  readonly #traces = new Map<string, SagaTrace>();
  readonly #stop = new AbortController();
  #scanTimer: NodeJS.Timeout | undefined;
  #renewTimer: NodeJS.Timeout | undefined;

  constructor(o: SagaRunnerOptions) {
    if (o?.store === undefined || !Array.isArray(o.sagas)) throw invalid("createSagaRunner needs a store and a list of sagas");
    for (const saga of o.sagas as readonly SagaDefinition<unknown>[]) {
      if (this.#sagas.has(saga.name)) throw invalid(`two sagas are named "${saga.name}"`);
      this.#sagas.set(saga.name, saga);
    }
    this.#store = o.store;
    this.#sql = new SagaSql(o.store.schema);
    this.#id = o.runnerId ?? randomUUID();
    this.#leaseMs = positive("leaseMs", o.leaseMs ?? 30_000);
    this.#resumeIntervalMs = positive("resumeIntervalMs", o.resumeIntervalMs ?? 5_000);
    this.#batch = positive("resumeBatchSize", o.resumeBatchSize ?? 100);
    this.#logger = o.logger ?? getDefaultLogger();
    this.#fault = o.faultHook;
  }

  async start(): Promise<void> {
    this.#checkOpen();
    await this.#resume();
    this.#scanTimer ??= setInterval(
      () => void this.#resume().catch((err: unknown) => this.#logger.warn({ err }, "saga resume scan failed")),
      this.#resumeIntervalMs,
    );
  }

  async begin<I>(saga: SagaDefinition<I>, input: I, options: { sagaId?: string } = {}): Promise<string> {
    this.#checkOpen();
    if (this.#sagas.get(saga?.name) !== (saga as SagaDefinition<unknown>)) throw invalid(`saga "${String(saga?.name)}" was not given to this runner`);
    const id = options.sagaId ?? randomUUID();
    if (typeof id !== "string" || id.length === 0 || id.length > 200) throw invalid("sagaId must be a string of 1–200 characters");
    let json: string | undefined;
    try {
      json = JSON.stringify(input);
    } catch (err) {
      throw invalid(`the input of saga "${saga.name}" is not JSON-serialisable: ${(err as Error).message}`);
    }
    if (json === undefined) throw invalid(`saga "${saga.name}" needs a JSON input (got undefined)`);
    const existing = await this.#sql.insert(this.#store, { id, name: saga.name, input: json, owner: this.#id, leaseMs: this.#leaseMs });
    if (existing !== undefined && existing !== saga.name) throw new FerryError(Code.ALREADY_EXISTS, `saga id "${id}" belongs to a "${existing}" saga`);
    if (existing === undefined) {
      if (!this.#active.has(id)) this.#traces.set(id, new SagaTrace(saga.name, id));
      this.#emit(id, saga.name, "started", null, "running");
      const input = JSON.parse(json) as unknown; // as a resumed saga reads it
      this.#launch({ id, name: saga.name, status: "running", input, results: {}, step: 0, failedStep: null, error: null, attentionReason: null });
    }
    return id;
  }

  async run<I>(saga: SagaDefinition<I>, input: I, options: { sagaId?: string } = {}): Promise<SagaStatus> {
    return this.wait(await this.begin(saga, input, options));
  }

  async wait(sagaId: string, options: { pollIntervalMs?: number; signal?: AbortSignal } = {}): Promise<SagaStatus> {
    for (;;) {
      await this.#active.get(sagaId);
      const status = await this.status(sagaId);
      if (status === undefined) throw new FerryError(Code.NOT_FOUND, `no saga with id "${sagaId}"`);
      if (finalSagaStatuses.has(status.status)) return status;
      if (options.signal?.aborted) throw FerryError.from(options.signal.reason, Code.CANCELLED);
      await new Promise((r) => setTimeout(r, options.pollIntervalMs ?? 100));
    }
  }

  async status(sagaId: string): Promise<SagaStatus | undefined> {
    const state = await this.#sql.get(this.#store, sagaId);
    if (state === undefined) return undefined;
    return { ...state, history: await this.#sql.history(this.#store, sagaId) };
  }

  async retry(sagaId: string): Promise<boolean> {
    const retried = await this.#sql.retry(this.#store, sagaId);
    const name = retried ? (await this.#sql.get(this.#store, sagaId))?.name : undefined;
    if (name !== undefined) this.#emit(sagaId, name, "retried", null, "compensating");
    return retried;
  }

  async stop(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort(new FerryError(Code.CANCELLED, "the saga runner is stopping"));
    clearInterval(this.#scanTimer);
    clearInterval(this.#renewTimer);
    const ids = [...this.#active.keys()];
    await Promise.allSettled(this.#active.values());
    await this.#sql.release(this.#store, this.#id, ids).catch((err: unknown) => this.#logger.warn({ err }, "releasing saga leases failed"));
  }

  async #resume(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    const claimed = await this.#sql.claim(this.#store, this.#id, [...this.#sagas.keys()], this.#leaseMs, this.#batch);
    for (const state of claimed) {
      if (this.#active.has(state.id)) continue;
      await this.#sql.log(this.#store, state.id, "resumed", state.status);
      this.#traces.set(state.id, new SagaTrace(state.name, state.id, ROOT_CONTEXT));
      this.#emit(state.id, state.name, "resumed", null, state.status);
      this.#launch(state);
    }
  }

  async #renew(): Promise<void> {
    await this.#sql.renew(this.#store, this.#id, [...this.#active.keys()], this.#leaseMs).catch((err: unknown) => this.#logger.warn({ err }, "renewing saga leases failed"));
  }

  #launch(state: SagaState): void {
    if (this.#active.has(state.id)) return; // a resume scan and begin() raced for a new saga
    this.#renewTimer ??= setInterval(() => void this.#renew(), Math.max(1, Math.floor(this.#leaseMs / 3)));
    const t = this.#traces.get(state.id);
    let last: SagaState | undefined;
    const run = context
      .with(t?.context ?? context.active(), () => this.#execute(state, (s) => (last = s)))
      .catch((err: unknown) => this.#logger.error({ err, sagaId: state.id }, "saga execution stopped; it resumes when its lease expires"))
      .finally(() => {
        this.#active.delete(state.id);
        this.#traces.delete(state.id);
        t?.end(last?.status);
      });
    this.#active.set(state.id, run);
  }

  async #execute(initial: SagaState, seen: (state: SagaState) => void): Promise<void> {
    const def = this.#sagas.get(initial.name);
    if (def === undefined) return;
    let state: SagaState | undefined = initial;
    while (state !== undefined && state.status === "running") {
      state = await this.#forward(def, state);
      if (state !== undefined) seen(state);
    }
    while (state !== undefined && state.status === "compensating") {
      state = await this.#backward(def, state);
      if (state !== undefined) seen(state);
    }
  }

  /** Runs the next action; resolves with the next state, or undefined to stop here. */
  async #forward(def: SagaDefinition<unknown>, state: SagaState): Promise<SagaState | undefined> {
    if (this.#stop.signal.aborted) return undefined;
    const step = def.steps[state.step];
    if (step === undefined) return this.#persist(def, state, { status: "committed", step: state.step, kind: "committed", stepName: null });
    let result: unknown;
    try {
      result = await runAction(def, step, state, this.#stop.signal);
    } catch (err) {
      if (this.#stop.signal.aborted) return undefined; // stopped mid-step: whoever resumes reruns it
      const error = describe(err);
      const failed = await this.#persist(def, state, { status: "compensating", step: state.step, failedStep: state.step, error, kind: "step_failed", stepName: step.name, detail: error });
      await this.#fault?.(FaultPoint.sagaAfterPersist, step.name);
      return failed;
    }
    await this.#fault?.(FaultPoint.sagaAfterAction, step.name);
    const results = { ...state.results, [step.name]: result };
    const last = state.step === def.steps.length - 1;
    // The last step's result and the commit are one transaction (two log entries).
    const next = await this.#persist(def, state, {
      status: last ? "committed" : "running",
      step: state.step + 1,
      results,
      kind: "step_completed",
      stepName: step.name,
      then: last ? "committed" : undefined,
    });
    await this.#fault?.(FaultPoint.sagaAfterPersist, step.name);
    return next;
  }

  /** Runs the next compensation; resolves with the next state, or undefined to stop here. */
  async #backward(def: SagaDefinition<unknown>, state: SagaState): Promise<SagaState | undefined> {
    if (this.#stop.signal.aborted) return undefined;
    if (state.step < 0) return this.#persist(def, state, { status: "compensated", step: -1, kind: "compensated", stepName: null });
    const step = def.steps[state.step];
    try {
      await runCompensation(def, step, state, this.#stop.signal);
    } catch (err) {
      if (this.#stop.signal.aborted) return undefined;
      const reason = `compensation of step "${step.name}" failed: ${describe(err)}`;
      return this.#persist(def, state, { status: "needs_attention", step: state.step, attentionReason: reason, kind: "compensation_failed", stepName: step.name, detail: reason });
    }
    await this.#fault?.(FaultPoint.sagaAfterCompensation, step.name);
    const next = await this.#persist(def, state, { status: "compensating", step: state.step - 1, kind: "compensation_completed", stepName: step.name });
    await this.#fault?.(FaultPoint.sagaAfterPersist, `${step.name}:compensation`);
    return next;
  }

  async #persist(def: SagaDefinition<unknown>, state: SagaState, u: SagaUpdate): Promise<SagaState | undefined> {
    const ok = await this.#sql.persist(this.#store, state.id, this.#id, this.#leaseMs, u);
    if (!ok) {
      this.#logger.warn({ sagaId: state.id }, "saga lease lost to another runner; leaving it to that runner");
      return undefined;
    }
    this.#emit(state.id, def.name, u.kind, u.stepName, u.then === undefined ? u.status : "running", u.detail);
    if (u.then !== undefined) this.#emit(state.id, def.name, u.then, null, u.status);
    return {
      ...state,
      status: u.status,
      step: u.step,
      results: u.results ?? state.results,
      failedStep: u.failedStep ?? state.failedStep,
      error: u.error ?? state.error,
      attentionReason: u.attentionReason ?? null,
    };
  }

  /** A persisted transition: a `transition` event, and an event and a span in the saga's trace (saga-tracing.ts). */
  #emit(sagaId: string, saga: string, kind: SagaTransitionKind, step: string | null, status: SagaStatusName, detail?: string): void {
    const t = { sagaId, saga, kind, step, status };
    const trace = this.#traces.get(sagaId);
    if (trace !== undefined) trace.transition(t, detail);
    else recordTransition(t, detail);
    this.events.emit({ type: "transition", ...t });
  }

  #checkOpen(): void {
    if (this.#stop.signal.aborted) throw new FerryError(Code.FAILED_PRECONDITION, "the saga runner is stopped");
  }
}

function describe(err: unknown): string {
  const e = FerryError.from(err, Code.UNKNOWN);
  return `${codeName(e.code)}: ${e.rawMessage}`;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw invalid(`${name} must be a finite number > 0, got ${value}`);
  return value;
}

function invalid(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, message);
}
