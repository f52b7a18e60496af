/**
 * The in-process metrics feed: an OpenTelemetry `PushMetricExporter` that
 * stores this process's metric points in a dashboard (no network), for a
 * `PeriodicExportingMetricReader` on the application's meter provider
 * (`startObservability({ metricReaders: [await dashboard.metricReader()] })`).
 * Ferry's gauges — circuit breaker states, consumer backlog
 * (`ferry.messaging.consumer.pending` / `.unacked`) — reach the Resilience
 * and Messaging views this way.
 *
 * Each export is written in the OTLP/JSON shape of an
 * `ExportMetricsServiceRequest` and stored by the same code as
 * `POST /v1/metrics`. Typed structurally, so `@opentelemetry/sdk-metrics`
 * stays the application's dependency.
 */
import type { MetricReader } from "@opentelemetry/sdk-metrics";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { importPeer } from "../util/import-peer.js";
import type { TelemetrySink } from "./telemetry-sink.js";

/** `[seconds, nanoseconds]`. */
type HrTime = readonly [number, number];

/** The parts of sdk-metrics' `ResourceMetrics` the feed reads (sdk-metrics 1.x and 2.x). */
export interface FeedResourceMetrics {
  readonly resource: { readonly attributes: Readonly<Record<string, unknown>> };
  readonly scopeMetrics: readonly {
    readonly metrics: readonly {
      readonly descriptor: { readonly name: string; readonly unit?: string };
      /** sdk-metrics `DataPointType`: 0 histogram, 1 exponential histogram, 2 gauge, 3 sum. */
      readonly dataPointType: number;
      readonly dataPoints: readonly { readonly endTime: HrTime; readonly attributes: Readonly<Record<string, unknown>>; readonly value: unknown }[];
    }[];
  }[];
}

/** The `PushMetricExporter` shape of the OpenTelemetry SDK. */
export interface DashboardMetricExporter {
  export(metrics: FeedResourceMetrics, done: (result: { code: number; error?: Error }) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Default interval of {@link createDashboardMetricReader}, in ms. */
export const DEFAULT_METRIC_FEED_INTERVAL_MS = 5_000;

const TYPES = ["histogram", "exponentialHistogram", "gauge", "sum"] as const;

/** An exporter storing every export in `sink` (result code 0, success, always). */
export function createDashboardMetricExporter(sink: TelemetrySink): DashboardMetricExporter {
  let closed = false;
  return {
    export(metrics, done) {
      if (!closed) sink.addMetrics(toOtlpJson(metrics));
      done({ code: 0 });
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => {
      closed = true;
      return Promise.resolve();
    },
  };
}

/**
 * A `PeriodicExportingMetricReader` (from the optional peer
 * `@opentelemetry/sdk-metrics`) exporting to `sink` every `intervalMs`
 * (default 5 000).
 *
 * @throws FerryError INVALID_ARGUMENT when `intervalMs` is not a positive
 *   number; FAILED_PRECONDITION when `@opentelemetry/sdk-metrics` is not installed.
 */
export async function createDashboardMetricReader(sink: TelemetrySink, intervalMs = DEFAULT_METRIC_FEED_INTERVAL_MS): Promise<MetricReader> {
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) throw new FerryError(Code.INVALID_ARGUMENT, `the dashboard's metric interval must be a positive number of ms, got ${String(intervalMs)}`);
  const { PeriodicExportingMetricReader } = await importPeer("@opentelemetry/sdk-metrics", () => import("@opentelemetry/sdk-metrics"), "the dashboard's metric feed");
  const exporter = createDashboardMetricExporter(sink) as unknown as ConstructorParameters<typeof PeriodicExportingMetricReader>[0]["exporter"];
  return new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: intervalMs, exportTimeoutMillis: Math.min(intervalMs, 30_000) });
}

/** `ResourceMetrics` as an OTLP/JSON `ExportMetricsServiceRequest`. */
function toOtlpJson(metrics: FeedResourceMetrics): unknown {
  return {
    resourceMetrics: [{
      resource: { attributes: keyValues(metrics.resource.attributes) },
      scopeMetrics: metrics.scopeMetrics.map((scope) => ({
        metrics: scope.metrics.map((m) => {
          const type = TYPES[m.dataPointType] ?? "gauge";
          const dataPoints = m.dataPoints.map((p) => ({ attributes: keyValues(p.attributes), timeUnixNano: String(p.endTime[0] * 1e9 + p.endTime[1]), ...pointValue(p.value) }));
          return { name: m.descriptor.name, unit: m.descriptor.unit ?? "", [type]: { dataPoints } };
        }),
      })),
    }],
  };
}

function pointValue(value: unknown): Record<string, number> {
  if (typeof value === "number") return { asDouble: value };
  const v = value as { count?: number; sum?: number } | undefined;
  return { count: v?.count ?? 0, sum: v?.sum ?? 0 };
}

function keyValues(attributes: Readonly<Record<string, unknown>>): { key: string; value: Record<string, unknown> }[] {
  const out: { key: string; value: Record<string, unknown> }[] = [];
  for (const [key, v] of Object.entries(attributes)) {
    if (typeof v === "string") out.push({ key, value: { stringValue: v } });
    else if (typeof v === "boolean") out.push({ key, value: { boolValue: v } });
    else if (typeof v === "number") out.push({ key, value: { doubleValue: v } });
    else if (v !== undefined && v !== null) out.push({ key, value: { stringValue: JSON.stringify(v) } });
  }
  return out;
}
