/**
 * `ferry/dashboard`: a live page of a running system — topology, calls,
 * traces, message flow and resilience events — fed by OTLP/HTTP (protobuf or JSON) from any process, or in-process by a
 * span processor. Start it with {@link startDashboard} or `ferry dashboard`;
 * see docs/dashboard.md.
 *
 * Needs the optional peers `uplot` and `cytoscape` (the page's chart and
 * graph libraries).
 *
 * Sources: OTLP specification (OTLP/HTTP, JSON encoding), OpenTelemetry
 * semantic conventions for RPC and messaging spans, WHATWG server-sent events.
 */
export { startDashboard, DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, MIN_TOKEN_LENGTH, type Dashboard, type DashboardConnections, type DashboardOptions } from "./start-dashboard.js";
export { createDashboardMetricExporter, DEFAULT_METRIC_FEED_INTERVAL_MS, type DashboardMetricExporter, type FeedResourceMetrics } from "./metric-feed.js";
export { OTLP_PROTOBUF_TYPE } from "./otlp-protobuf.js";
export type { DeadLetterView } from "./messaging-tools.js";
export type { GroupBacklogFlow } from "./messaging-backlog.js";
export { TelemetrySink, DEFAULT_DASHBOARD_LIMITS, type DashboardLimits, type ResolvedDashboardLimits } from "./telemetry-sink.js";
export { createDashboardSpanProcessor, type DashboardSpanProcessor, type FeedSpan } from "./span-processor.js";
export { decodeOtlpTraces, type DecodedTraces } from "./otlp-traces.js";
export { OtlpDecodeError } from "./otlp-common.js";
export { OTLP_METRICS_PATH, OTLP_TRACES_PATH } from "./otlp-receiver.js";
export { DEFAULT_MAX_BODY_BYTES } from "./request-body.js";
export { DEAD_LETTERS_PATH, REDRIVE_PATH, REPLAY_PATH } from "./messaging-actions.js";
export type { RegisteredInstance } from "./registry-view.js";
export type { ExplorerCallResult, ExplorerMethod, ExplorerService } from "./api-explorer.js";
export { MAX_FORM_DEPTH, type FormField } from "./request-form.js";
export { EXPLORER_CALL_PATH, EXPLORER_PATH } from "./explorer-routes.js";
export type { LiveFeedOptions } from "./live-feed.js";
export type { DashboardSpan, DashboardSpanEvent, DashboardSpanKind, DashboardAttributeValue, SpanLimits } from "./dashboard-span.js";
export type { CallKey, CallRow, CallSide } from "./call-stats.js";
export type { TopologyEdge, TopologyEdgeKind, TopologyGraph, TopologyNode, TopologyNodeKind } from "./topology.js";
export type { TraceQuery, TraceSummary, TraceStoreLimits } from "./trace-store.js";
export type { MetricPoint, MetricType } from "./metric-store.js";
export type { DeadLetterRecord, GroupFlow, TopicFlow } from "./messaging-stats.js";
export { POLICY_EVENT_PREFIXES, type PolicyEventCount, type PolicyEventRecord } from "./policy-events.js";
export type { SeriesPoint, StatsSummary, WindowOptions } from "./windowed-stats.js";
