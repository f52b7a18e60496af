/**
 * `ferry/observability`: OpenTelemetry traces, metrics and correlated logs
 * for Ferry's calls and messages.
 *
 * The instrumentation itself is built in and speaks only
 * `@opentelemetry/api`: every client and server gets a telemetry
 * interceptor, every broker client producer and consumer spans, so with an
 * SDK registered (by {@link startObservability} or by the application) the
 * spans and metrics flow with no further code. This entry point adds the
 * SDK start-up and the helpers that observe policies and channels.
 *
 * Sources: OpenTelemetry semantic conventions for RPC, HTTP and messaging
 * spans and metrics; W3C Trace Context and Baggage for propagation.
 */
export { createClientTelemetryInterceptor, type ClientTelemetryOptions } from "./client-telemetry.js";
export { createServerTelemetryInterceptor, type ServerTelemetryOptions } from "./server-telemetry.js";
export { extractTraceContext, injectTraceContext, metadataGetter, metadataSetter } from "./metadata-carrier.js";
export { ATTR_FERRY_TRANSPORT, RPC_SYSTEM_FERRY, rpcSpanName } from "./rpc-attributes.js";
export { METRIC_FERRY_RPC_CLIENT_ACTIVE_CALLS, METRIC_FERRY_RPC_SERVER_ACTIVE_CALLS, RPC_DURATION_BUCKETS_MS } from "./rpc-metrics.js";
export {
  ATTR_FERRY_MESSAGING_DELIVERY_ATTEMPT,
  ATTR_FERRY_MESSAGING_OUTCOME,
  recordDeliveryError,
  recordDeliveryOutcome,
  traceDelivery,
  tracePublish,
  type DeliveryInfo,
  type DeliveryOutcome,
  type MessagingTarget,
} from "./messaging-telemetry.js";
export { MESSAGING_DURATION_BUCKETS_S, METRIC_FERRY_MESSAGING_REDELIVERED_MESSAGES, METRIC_FERRY_MESSAGING_SETTLED_MESSAGES } from "./messaging-metrics.js";
export {
  METRIC_FERRY_BULKHEAD_CALLS,
  METRIC_FERRY_CHANNEL_EVENTS,
  METRIC_FERRY_CHANNEL_SUBCHANNELS,
  METRIC_FERRY_CIRCUIT_BREAKER_STATE,
  METRIC_FERRY_RESILIENCE_EVENTS,
  observeChannel,
  observeResilience,
  recordEndpointPicked,
} from "./policy-events-telemetry.js";
export { INSTRUMENTATION_SCOPE } from "./telemetry-providers.js";
export { startObservability, type Observability, type ObservabilityOptions } from "./start-observability.js";
export { readOtelEnv, type OtelEnvChoice, type OtlpProtocol } from "./otel-env.js";
export { ferryLogOptions, traceLogFields, type TraceLogFields } from "./log-correlation.js";
export { LOG_REDACT_PATHS, REDACTED, redactAttributeValues, redactSecrets } from "./redaction.js";
export { BACKLOG_READ_TIMEOUT_MS, METRIC_FERRY_MESSAGING_CONSUMER_PENDING, METRIC_FERRY_MESSAGING_CONSUMER_UNACKED, observeConsumerBacklog, type BacklogSource } from "./consumer-backlog-telemetry.js";
