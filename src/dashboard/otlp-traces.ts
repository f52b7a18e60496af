/**
 * Decodes an OTLP/JSON `ExportTraceServiceRequest` (the body of
 * `POST /v1/traces` with `Content-Type: application/json`) into
 * {@link DashboardSpan}s.
 *
 * Source: OTLP specification 1.x, "OTLP/HTTP" and "JSON Protobuf
 * Encoding"; `opentelemetry/proto/trace/v1/trace.proto`. A body that is not
 * that message shape is an {@link OtlpDecodeError} (HTTP 400); single spans
 * that cannot be read (bad ids or times) are counted as rejected, which the
 * receiver reports as `partialSuccess`, as the specification asks.
 */
import {
  collectAttributes,
  DEFAULT_SPAN_LIMITS,
  outcomeLabel,
  SPAN_OVERHEAD_BYTES,
  type DashboardSpan,
  type DashboardSpanEvent,
  type DashboardSpanKind,
  type ResolvedSpanLimits,
} from "./dashboard-span.js";
import { arrayField, asObject, keyValues, nanosToMs, OtlpDecodeError, resourceIdentity, type ResourceIdentity } from "./otlp-common.js";

/** The spans read from one request, and how many could not be read. */
export interface DecodedTraces {
  readonly spans: DashboardSpan[];
  /** Spans left out (malformed ids or timestamps), for `partialSuccess.rejectedSpans`. */
  readonly rejected: number;
  /** The first reason a span was left out, for `partialSuccess.errorMessage`. */
  readonly firstError: string | undefined;
}

const KINDS: readonly DashboardSpanKind[] = ["internal", "internal", "server", "client", "producer", "consumer"];
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/**
 * Reads every span of `body` (already parsed JSON).
 *
 * @throws OtlpDecodeError when `body` is not an object with a
 *   `resourceSpans` array of objects (HTTP 400).
 */
export function decodeOtlpTraces(body: unknown, limits: ResolvedSpanLimits = DEFAULT_SPAN_LIMITS): DecodedTraces {
  const request = asObject(body);
  if (request === undefined) throw new OtlpDecodeError("the body must be a JSON object (an OTLP ExportTraceServiceRequest)");
  const spans: DashboardSpan[] = [];
  let rejected = 0;
  let firstError: string | undefined;
  for (const [r, item] of arrayField(request, "resourceSpans", "").entries()) {
    const resourceSpans = asObject(item);
    if (resourceSpans === undefined) throw new OtlpDecodeError(`resourceSpans[${r}] must be an object`);
    const identity = resourceIdentity(resourceSpans.resource);
    for (const [s, scopeItem] of arrayField(resourceSpans, "scopeSpans", `resourceSpans[${r}]`).entries()) {
      const scope = asObject(scopeItem);
      if (scope === undefined) throw new OtlpDecodeError(`resourceSpans[${r}].scopeSpans[${s}] must be an object`);
      for (const spanItem of arrayField(scope, "spans", `resourceSpans[${r}].scopeSpans[${s}]`)) {
        const span = decodeSpan(spanItem, identity, limits);
        if (typeof span === "string") {
          rejected++;
          firstError ??= span;
        } else spans.push(span);
      }
    }
  }
  return { spans, rejected, firstError };
}

/** One JSON `Span`, or the reason it cannot be read. */
function decodeSpan(item: unknown, identity: ResourceIdentity, limits: ResolvedSpanLimits): DashboardSpan | string {
  const span = asObject(item);
  if (span === undefined) return "a span is not an object";
  const traceId = typeof span.traceId === "string" ? span.traceId.toLowerCase() : "";
  const spanId = typeof span.spanId === "string" ? span.spanId.toLowerCase() : "";
  if (!TRACE_ID.test(traceId) || /^0+$/.test(traceId)) return `invalid traceId ${JSON.stringify(span.traceId)} (32 hex digits, not all zero)`;
  if (!SPAN_ID.test(spanId) || /^0+$/.test(spanId)) return `invalid spanId ${JSON.stringify(span.spanId)} (16 hex digits, not all zero)`;
  const parent = typeof span.parentSpanId === "string" ? span.parentSpanId.toLowerCase() : "";
  const startMs = nanosToMs(span.startTimeUnixNano);
  const endMs = nanosToMs(span.endTimeUnixNano);
  if (startMs === undefined || endMs === undefined) return `span ${spanId}: startTimeUnixNano and endTimeUnixNano must be nanosecond timestamps`;
  const { attributes, bytes } = collectAttributes(keyValues(span.attributes), limits);
  const statusObject = asObject(span.status);
  const statusCode = statusObject?.code;
  const status = statusCode === 2 || statusCode === "STATUS_CODE_ERROR" ? "error" : statusCode === 1 || statusCode === "STATUS_CODE_OK" ? "ok" : "unset";
  const statusMessage = typeof statusObject?.message === "string" && statusObject.message !== "" ? statusObject.message.slice(0, limits.maxAttributeValueLength) : undefined;
  const events = decodeEvents(span.events, limits);
  const name = typeof span.name === "string" ? span.name.slice(0, limits.maxAttributeValueLength) : "";
  return {
    traceId,
    spanId,
    parentSpanId: SPAN_ID.test(parent) && !/^0+$/.test(parent) ? parent : undefined,
    name,
    kind: KINDS[typeof span.kind === "number" ? span.kind : 0] ?? "internal",
    service: identity.service,
    instance: identity.instance,
    startMs,
    durationMs: Math.max(0, endMs - startMs),
    status,
    statusMessage,
    code: outcomeLabel(attributes, status),
    attributes,
    events: events.events,
    bytes: SPAN_OVERHEAD_BYTES + bytes + events.bytes + name.length * 2 + (statusMessage?.length ?? 0) * 2,
  };
}

function decodeEvents(list: unknown, limits: ResolvedSpanLimits): { events: DashboardSpanEvent[]; bytes: number } {
  const events: DashboardSpanEvent[] = [];
  let bytes = 0;
  if (!Array.isArray(list)) return { events, bytes };
  for (const item of list) {
    if (events.length >= limits.maxEventsPerSpan) break;
    const event = asObject(item);
    if (event === undefined) continue;
    const name = typeof event.name === "string" ? event.name.slice(0, limits.maxAttributeValueLength) : "";
    const collected = collectAttributes(keyValues(event.attributes), limits);
    events.push({ name, timeMs: nanosToMs(event.timeUnixNano) ?? 0, attributes: collected.attributes });
    bytes += 48 + name.length * 2 + collected.bytes;
  }
  return { events, bytes };
}
