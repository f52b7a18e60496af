/**
 * The latest value of every metric series received over OTLP/HTTP
 * (`POST /v1/metrics`): one row per service, metric name and attribute set,
 * bounded by `maxSeries` (least recently updated dropped first). Gauges and
 * sums keep their value; histograms their count and sum. Ferry's own
 * gauges (circuit breaker state, subchannel state) are read from here.
 *
 * Source: OTLP specification, `opentelemetry/proto/metrics/v1/metrics.proto`
 * in the JSON encoding.
 */
import { collectAttributes, DEFAULT_SPAN_LIMITS, type DashboardAttributeValue } from "./dashboard-span.js";
import { arrayField, asObject, keyValues, nanosToMs, OtlpDecodeError, resourceIdentity } from "./otlp-common.js";

/** The data point kinds of OTLP. */
export type MetricType = "gauge" | "sum" | "histogram" | "exponentialHistogram" | "summary";

/** The latest point of one metric series. */
export interface MetricPoint {
  readonly service: string;
  readonly name: string;
  readonly unit: string;
  readonly type: MetricType;
  readonly attributes: Readonly<Record<string, DashboardAttributeValue>>;
  /** Gauge or sum value; for histograms and summaries their sum. */
  readonly value: number;
  /** Histograms and summaries: the number of values recorded; otherwise 1. */
  readonly count: number;
  /** Unix ms of the point. */
  readonly timeMs: number;
}

const TYPES: readonly MetricType[] = ["gauge", "sum", "histogram", "exponentialHistogram", "summary"];

/** The latest metric points, bounded. */
export class MetricStore {
  readonly #maxSeries: number;
  readonly #points = new Map<string, MetricPoint>();

  /** @param maxSeries series kept (default 2 000). */
  constructor(maxSeries = 2_000) {
    this.#maxSeries = Math.max(1, maxSeries);
  }

  /**
   * Stores every data point of an OTLP/JSON `ExportMetricsServiceRequest`;
   * returns how many were stored and how many could not be read.
   *
   * @throws OtlpDecodeError when `body` is not that message shape (HTTP 400).
   */
  ingest(body: unknown): { accepted: number; rejected: number } {
    const request = asObject(body);
    if (request === undefined) throw new OtlpDecodeError("the body must be a JSON object (an OTLP ExportMetricsServiceRequest)");
    let accepted = 0;
    let rejected = 0;
    for (const [r, item] of arrayField(request, "resourceMetrics", "").entries()) {
      const resourceMetrics = asObject(item);
      if (resourceMetrics === undefined) throw new OtlpDecodeError(`resourceMetrics[${r}] must be an object`);
      const { service } = resourceIdentity(resourceMetrics.resource);
      for (const scope of arrayField(resourceMetrics, "scopeMetrics", `resourceMetrics[${r}]`)) {
        for (const metric of arrayField(asObject(scope) ?? {}, "metrics", `resourceMetrics[${r}].scopeMetrics`)) {
          const n = this.#ingestMetric(service, asObject(metric));
          accepted += n.accepted;
          rejected += n.rejected;
        }
      }
    }
    return { accepted, rejected };
  }

  /** The latest points, optionally of one service and/or with names starting with `prefix`. */
  points(filter: { service?: string; prefix?: string } = {}): MetricPoint[] {
    const out: MetricPoint[] = [];
    for (const p of this.#points.values()) {
      if (filter.service !== undefined && filter.service !== "" && p.service !== filter.service) continue;
      if (filter.prefix !== undefined && !p.name.startsWith(filter.prefix)) continue;
      out.push(p);
    }
    return out;
  }

  #ingestMetric(service: string, metric: Record<string, unknown> | undefined): { accepted: number; rejected: number } {
    if (metric === undefined || typeof metric.name !== "string") return { accepted: 0, rejected: 1 };
    const type = TYPES.find((t) => asObject(metric[t]) !== undefined);
    if (type === undefined) return { accepted: 0, rejected: 1 };
    let accepted = 0;
    let rejected = 0;
    for (const item of arrayField(asObject(metric[type]) ?? {}, "dataPoints", metric.name)) {
      const dp = asObject(item);
      const value = dp === undefined ? undefined : pointValue(type, dp);
      if (dp === undefined || value === undefined) {
        rejected++;
        continue;
      }
      const { attributes } = collectAttributes(keyValues(dp.attributes), DEFAULT_SPAN_LIMITS);
      this.#put({ service, name: metric.name, unit: typeof metric.unit === "string" ? metric.unit : "", type, attributes, ...value, timeMs: nanosToMs(dp.timeUnixNano) ?? Date.now() });
      accepted++;
    }
    return { accepted, rejected };
  }

  #put(point: MetricPoint): void {
    const key = `${point.service}\u0000${point.name}\u0000${JSON.stringify(point.attributes)}`;
    if (!this.#points.delete(key) && this.#points.size >= this.#maxSeries) {
      this.#points.delete(this.#points.keys().next().value as string);
    }
    this.#points.set(key, point);
  }
}

function pointValue(type: MetricType, dp: Record<string, unknown>): { value: number; count: number } | undefined {
  if (type === "gauge" || type === "sum") {
    const raw = dp.asDouble ?? dp.asInt;
    const value = typeof raw === "string" ? Number(raw) : raw;
    return typeof value === "number" && !Number.isNaN(value) ? { value, count: 1 } : undefined;
  }
  const count = Number(dp.count ?? 0);
  const sum = Number(dp.sum ?? 0);
  return Number.isNaN(count) || Number.isNaN(sum) ? undefined : { value: sum, count };
}
