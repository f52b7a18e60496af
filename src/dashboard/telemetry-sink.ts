/**
 * Where every span and metric point the dashboard receives goes, whichever
 * way it came (OTLP/HTTP or the in-process feed): the trace store, the call
 * statistics, the service map, the message flow, the policy events and the
 * metric store, with one change counter the live feed watches.
 */
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { CallStats } from "./call-stats.js";
import { DEFAULT_SPAN_LIMITS, type DashboardSpan, type ResolvedSpanLimits, type SpanLimits } from "./dashboard-span.js";
import { MessagingStats } from "./messaging-stats.js";
import { MetricStore } from "./metric-store.js";
import { PolicyEvents } from "./policy-events.js";
import { Topology } from "./topology.js";
import { definedOnly, TraceStore, DEFAULT_TRACE_STORE_LIMITS, type TraceStoreLimits } from "./trace-store.js";
import { DEFAULT_WINDOW, type ResolvedWindowOptions, type WindowOptions } from "./windowed-stats.js";

/**
 * Every retention limit of the dashboard; each has a safe default, so an
 * empty object is a valid configuration. Memory is bounded by roughly
 * `maxSpanBytes` + `maxSeries` × 2 × (window buckets with traffic × 0.5 KiB).
 */
export interface DashboardLimits extends TraceStoreLimits, SpanLimits, WindowOptions {
  /** Call series (service × side × operation), and separately topology nodes and edges, kept each. Default 1 000. */
  readonly maxSeries?: number;
  /** SERVER spans waiting for their CLIENT parent span to arrive (to draw the edge). Default 10 000. */
  readonly maxPendingLinks?: number;
  /** Metric series (service × name × attributes) kept. Default 2 000. */
  readonly maxMetricSeries?: number;
  /** Recent dead letters and recent policy/channel events kept, each. Default 200. */
  readonly maxRecentEvents?: number;
}

/** {@link DashboardLimits} with every default filled in. */
export type ResolvedDashboardLimits = Required<DashboardLimits>;

/** The defaults of {@link DashboardLimits}. */
export const DEFAULT_DASHBOARD_LIMITS: ResolvedDashboardLimits = Object.freeze({
  ...DEFAULT_TRACE_STORE_LIMITS,
  ...DEFAULT_SPAN_LIMITS,
  ...DEFAULT_WINDOW,
  maxSeries: 1_000,
  maxPendingLinks: 10_000,
  maxMetricSeries: 2_000,
  maxRecentEvents: 200,
});

/** The dashboard's data: receives spans and metric points, answers the views. */
export class TelemetrySink {
  /** The limits in force. */
  readonly limits: ResolvedDashboardLimits;
  readonly traces: TraceStore;
  readonly calls: CallStats;
  readonly topology: Topology;
  readonly metrics: MetricStore;
  readonly messaging: MessagingStats;
  readonly policyEvents: PolicyEvents;
  readonly spanLimits: ResolvedSpanLimits;
  #version = 0;
  #received = 0;

  /**
   * @param limits retention limits; other fields of the object are ignored.
   * @throws FerryError INVALID_ARGUMENT when a limit is not a positive number.
   */
  constructor(limits: DashboardLimits = {}) {
    this.limits = pickLimits(limits);
    const l = this.limits;
    const window: ResolvedWindowOptions = { bucketMs: l.bucketMs, windowMs: l.windowMs };
    this.spanLimits = { maxAttributesPerSpan: l.maxAttributesPerSpan, maxAttributeValueLength: l.maxAttributeValueLength, maxEventsPerSpan: l.maxEventsPerSpan };
    this.traces = new TraceStore(l);
    this.calls = new CallStats(l.maxSeries, window);
    this.topology = new Topology(l, window);
    this.metrics = new MetricStore(l.maxMetricSeries);
    this.messaging = new MessagingStats({ maxSeries: l.maxSeries, maxDeadLetters: l.maxRecentEvents }, window);
    this.policyEvents = new PolicyEvents({ maxSeries: l.maxSeries, maxRecentEvents: l.maxRecentEvents }, window);
  }

  /** Takes finished spans, in any order and from any process. Bounded work per span. */
  addSpans(spans: readonly DashboardSpan[]): void {
    if (spans.length === 0) return;
    const find = (spanId: string): DashboardSpan | undefined => this.traces.span(spanId);
    // The whole batch first, so a span finds the parents that ended after it (a caller's SERVER span) in the same batch.
    for (const span of spans) this.traces.add(span);
    this.topology.notice(spans);
    for (const span of spans) {
      this.calls.record(span);
      this.topology.record(span, find);
      this.messaging.record(span);
      if (span.events.length > 0) this.policyEvents.record(span);
    }
    this.#received += spans.length;
    this.#version++;
  }

  /** Stores an OTLP/JSON metrics request (see {@link MetricStore.ingest}). */
  addMetrics(body: unknown): { accepted: number; rejected: number } {
    const result = this.metrics.ingest(body);
    if (result.accepted > 0) this.#version++;
    return result;
  }

  /** Grows on every change; the live feed sends an update when it moved. */
  get version(): number {
    return this.#version;
  }

  /** Spans received since start, and what the trace store retains. */
  get usage(): { spansReceived: number; traces: number; spans: number; bytes: number } {
    return { spansReceived: this.#received, ...this.traces.usage };
  }
}

/** The limit fields of `options` (which may carry other options, such as a token) over the defaults. */
function pickLimits(options: DashboardLimits): ResolvedDashboardLimits {
  const given = definedOnly(options) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...DEFAULT_DASHBOARD_LIMITS };
  for (const key of Object.keys(out)) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !(value > 0)) {
      throw new FerryError(Code.INVALID_ARGUMENT, `dashboard limit ${key} must be a positive number, got ${String(value)}`);
    }
    out[key] = value;
  }
  return out as ResolvedDashboardLimits;
}
