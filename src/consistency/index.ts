/**
 * Ferry consistency: the transactional outbox and its relay, the idempotent
 * inbox, and orchestrated sagas with compensation, on PostgreSQL (`pg`) or
 * PGlite (PostgreSQL in WebAssembly, the embedded default). Both drivers
 * are optional peers, loaded on first use. See docs/consistency.md.
 * @packageDocumentation
 */
export { createStore, type StoreOptions } from "./create-store.js";
export { createPgStore, type PgStoreOptions } from "./pg-store.js";
export { createPgliteStore, type PgliteStoreOptions } from "./pglite-store.js";
export type { SqlExecutor, SqlRow, SqlStore, SqlTransaction } from "./sql-store.js";
export { migrate, migrations, type Migration } from "./migrations.js";
export { createOutbox, type Outbox, type OutboxOptions, type OutboxPublishOptions } from "./outbox.js";
export { createOutboxRelay, type OutboxRelay, type OutboxRelayEventMap, type OutboxRelayOptions } from "./outbox-relay.js";
export { createInbox, type Inbox, type InboxOptions, type InboxResult } from "./inbox.js";
export { FaultPoint, type FaultHook, type FaultPointName } from "./fault-hook.js";
export {
  defineSaga,
  type SagaCompensationContext,
  type SagaDefinition,
  type SagaOptions,
  type SagaStep,
  type SagaStepContext,
} from "./saga-definition.js";
export { createSagaRunner, finalSagaStatuses, type SagaRunner, type SagaRunnerEventMap, type SagaRunnerOptions, type SagaStatus } from "./saga-runner.js";
export type { SagaState, SagaStatusName, SagaTransition, SagaTransitionKind } from "./saga-sql.js";
export { IDEMPOTENCY_KEY_HEADER } from "./saga-step.js";
