/**
 * Named points where the relay and the saga runner call an optional
 * {@link FaultHook}. Crash-injection tests kill the process there (SIGKILL)
 * to check that what was committed before the point survives and that what
 * was not is redone, as the outbox and saga literature defines correctness.
 */
export const FaultPoint = Object.freeze({
  /** Relay: rows claimed (locked), nothing published yet. */
  relayAfterClaim: "relay.after-claim",
  /** Relay: one row published and confirmed, the rest of the batch not yet (the middle of a batch). */
  relayAfterFirstPublish: "relay.after-first-publish",
  /** Relay: every row of the batch published, none marked sent. */
  relayBeforeMarkSent: "relay.before-mark-sent",
  /** Saga runner: a step's action succeeded, its result not yet persisted. */
  sagaAfterAction: "saga.after-action",
  /** Saga runner: a step's result persisted. */
  sagaAfterPersist: "saga.after-persist",
  /** Saga runner: a compensation succeeded, not yet persisted. */
  sagaAfterCompensation: "saga.after-compensation",
});

/** One of {@link FaultPoint}'s values. */
export type FaultPointName = (typeof FaultPoint)[keyof typeof FaultPoint];

/**
 * Called at each {@link FaultPoint} with its name (and, for saga points, the
 * step's name). For tests only: production code passes none. It may kill the
 * process, throw (the work fails there) or wait.
 */
export type FaultHook = (point: FaultPointName, detail?: string) => void | Promise<void>;
