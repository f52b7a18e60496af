/**
 * The dashboard's own record of one finished span: what the OTLP receiver
 * and the in-process feed both produce, and what every store keeps. Flat
 * and bounded (attribute count, value length and event count are capped
 * when the record is built, see {@link SpanLimits}), so its size is known.
 *
 * Source: the OpenTelemetry trace data model (OTLP `Span`, `Status`,
 * `SpanKind`) and the semantic conventions for RPC and messaging spans.
 */

/** An attribute value as the dashboard keeps it (arrays are flattened to their JSON text). */
export type DashboardAttributeValue = string | number | boolean;

/** Span kinds by name; OTLP numbers them 1–5 (0 is unspecified, kept as `internal`). */
export type DashboardSpanKind = "internal" | "server" | "client" | "producer" | "consumer";

/** One event of a span (`exception`, a retry, a breaker transition, `ferry.message.nack`, …). */
export interface DashboardSpanEvent {
  readonly name: string;
  /** Unix epoch milliseconds (fractional). */
  readonly timeMs: number;
  readonly attributes: Readonly<Record<string, DashboardAttributeValue>>;
}

/** One finished span. */
export interface DashboardSpan {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /** 16 lower-case hex digits. */
  readonly spanId: string;
  /** 16 hex digits, or `undefined` for a root span. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: DashboardSpanKind;
  /** The resource's `service.name` (`unknown_service` when absent, as the SDKs report it). */
  readonly service: string;
  /** The resource's `service.instance.id`, else `host.name:process.pid`, else `undefined`. */
  readonly instance: string | undefined;
  /** Unix epoch milliseconds (fractional). */
  readonly startMs: number;
  /** Milliseconds, never negative. */
  readonly durationMs: number;
  /** The span status: `error` marks a failed span. */
  readonly status: "unset" | "ok" | "error";
  readonly statusMessage: string | undefined;
  /**
   * The call's outcome as a label: the gRPC status name from
   * `rpc.grpc.status_code` (`OK`, `UNAVAILABLE`, …), else the HTTP
   * `http.response.status_code`, else for an error span its `error.type`
   * (Ferry's messaging spans put the code name there) or `ERROR`, else `OK`.
   */
  readonly code: string;
  readonly attributes: Readonly<Record<string, DashboardAttributeValue>>;
  readonly events: readonly DashboardSpanEvent[];
  /** Approximate retained size in bytes (UTF-16 code units of strings plus a fixed overhead); what the byte limits count. */
  readonly bytes: number;
}

/** Caps applied while a span record is built; what is over them is dropped or truncated. */
export interface SpanLimits {
  /** Attributes kept per span (and per event). Default 64. */
  readonly maxAttributesPerSpan?: number;
  /** Longest string value kept, in characters; longer ones are cut and end with `…`. Default 1024. */
  readonly maxAttributeValueLength?: number;
  /** Events kept per span (the first ones). Default 64. */
  readonly maxEventsPerSpan?: number;
}

/** {@link SpanLimits} with every default filled in. */
export type ResolvedSpanLimits = Required<SpanLimits>;

/** The defaults of {@link SpanLimits}. */
export const DEFAULT_SPAN_LIMITS: ResolvedSpanLimits = Object.freeze({
  maxAttributesPerSpan: 64,
  maxAttributeValueLength: 1024,
  maxEventsPerSpan: 64,
});

/** The gRPC status names by number (Ferry's codes are gRPC's on every transport). */
const GRPC_CODE_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** Fixed per-span overhead counted by {@link DashboardSpan.bytes} (ids, numbers, object headers). */
export const SPAN_OVERHEAD_BYTES = 200;

/**
 * The outcome label of a span (see {@link DashboardSpan.code}) from its
 * attributes and status.
 */
export function outcomeLabel(attributes: Readonly<Record<string, DashboardAttributeValue>>, status: DashboardSpan["status"]): string {
  const grpc = attributes["rpc.grpc.status_code"];
  if (typeof grpc === "number" && Number.isInteger(grpc)) return GRPC_CODE_NAMES[grpc] ?? `CODE_${grpc}`;
  const http = attributes["http.response.status_code"] ?? attributes["http.status_code"];
  if (typeof http === "number" && http >= 100) return `HTTP ${http}`;
  if (status !== "error") return "OK";
  const errorType = attributes["error.type"];
  return typeof errorType === "string" && errorType !== "" && errorType.length <= 64 ? errorType : "ERROR";
}

/** Whether an outcome label counts as an error in the rates (anything but `OK` and HTTP 1xx–3xx). */
export function isErrorOutcome(code: string): boolean {
  if (code === "OK") return false;
  const http = /^HTTP (\d{3})$/.exec(code);
  return http === null || Number(http[1]) >= 400;
}

/** Attributes collected under the caps, with their approximate size. */
export interface CollectedAttributes {
  readonly attributes: Record<string, DashboardAttributeValue>;
  readonly bytes: number;
}

/**
 * Collects `entries` into a record, keeping the first
 * `maxAttributesPerSpan` and cutting strings longer than
 * `maxAttributeValueLength` (they end with `…`). Entries whose value is
 * `undefined` are skipped. Bounded work: stops at the cap.
 */
export function collectAttributes(
  entries: Iterable<readonly [string, DashboardAttributeValue | undefined]>,
  limits: ResolvedSpanLimits,
): CollectedAttributes {
  const attributes: Record<string, DashboardAttributeValue> = {};
  let count = 0;
  let bytes = 0;
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    if (count >= limits.maxAttributesPerSpan) break;
    let kept = value;
    if (typeof kept === "string" && kept.length > limits.maxAttributeValueLength) kept = `${kept.slice(0, limits.maxAttributeValueLength)}…`;
    attributes[key] = kept;
    count++;
    bytes += (key.length + (typeof kept === "string" ? kept.length : 8)) * 2 + 16;
  }
  return { attributes, bytes };
}
