/**
 * The in-process feed: an OpenTelemetry `SpanProcessor` that hands every
 * finished span of this process to a dashboard, with no exporter and no
 * network. Register it on the SDK's tracer provider
 * (`new NodeTracerProvider({ spanProcessors: [dashboard.spanProcessor] })`).
 *
 * `onEnd` only queues the span (bounded by `maxQueuedSpans`; beyond it
 * spans are dropped and counted), and the queue is converted and stored
 * off the call path, at most 500 spans per turn of the event loop, so the
 * services watched are not slowed.
 * Typed structurally, so the SDK stays the application's dependency.
 */
import { collectAttributes, outcomeLabel, SPAN_OVERHEAD_BYTES, type DashboardAttributeValue, type DashboardSpan, type DashboardSpanKind } from "./dashboard-span.js";
import type { TelemetrySink } from "./telemetry-sink.js";

/** `[seconds, nanoseconds]`, as the OpenTelemetry SDK keeps times. */
type HrTime = readonly [number, number];

/** The parts of the SDK's `ReadableSpan` the feed reads (sdk-trace-base 1.x and 2.x). */
export interface FeedSpan {
  readonly name: string;
  /** The API's `SpanKind`: 0 internal, 1 server, 2 client, 3 producer, 4 consumer. */
  readonly kind: number;
  spanContext(): { traceId: string; spanId: string };
  /** sdk-trace-base 2.x. */
  readonly parentSpanContext?: { spanId: string } | undefined;
  /** sdk-trace-base 1.x. */
  readonly parentSpanId?: string | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly status: { code: number; message?: string };
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly events: readonly { name: string; time: HrTime; attributes?: Readonly<Record<string, unknown>> }[];
  readonly resource: { readonly attributes: Readonly<Record<string, unknown>> };
}

/** The `SpanProcessor` shape of the OpenTelemetry SDK. */
export interface DashboardSpanProcessor {
  onStart(span: unknown, parentContext: unknown): void;
  onEnd(span: FeedSpan): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  /** Spans dropped because the queue was full. */
  readonly droppedSpans: number;
}

const KINDS: readonly DashboardSpanKind[] = ["internal", "server", "client", "producer", "consumer"];
/** Spans converted and stored per turn of the event loop. */
const SLICE = 500;
const STATUS = ["unset", "ok", "error"] as const;

/**
 * A span processor feeding `sink`.
 *
 * @param options.maxQueuedSpans spans waiting to be stored (default 10 000).
 * @param options.flushDelayMs how long a span waits at most before it is stored, in ms (default 200).
 */
export function createDashboardSpanProcessor(sink: TelemetrySink, options: { maxQueuedSpans?: number; flushDelayMs?: number } = {}): DashboardSpanProcessor {
  const maxQueued = options.maxQueuedSpans ?? 10_000;
  const delayMs = options.flushDelayMs ?? 200;
  const queue: FeedSpan[] = [];
  let timer: NodeJS.Timeout | undefined;
  let dropped = 0;
  let closed = false;
  // Stores at most SLICE spans per turn of the event loop, so a burst never blocks the services for long.
  const flush = (all: boolean): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    do {
      const batch = queue.splice(0, SLICE);
      sink.addSpans(batch.map((s) => fromFeedSpan(s, sink)));
    } while (all && queue.length > 0);
    if (queue.length > 0) timer = setTimeout(() => flush(false), 0).unref();
  };
  return {
    onStart() {},
    onEnd(span) {
      if (closed) return;
      if (queue.length >= maxQueued) {
        dropped++;
        return;
      }
      queue.push(span);
      timer ??= setTimeout(() => flush(false), delayMs).unref();
    },
    forceFlush: async () => flush(true),
    shutdown: async () => {
      flush(true);
      closed = true;
    },
    get droppedSpans() {
      return dropped;
    },
  };
}

const identities = new WeakMap<object, { service: string; instance: string | undefined }>();

function identity(resource: FeedSpan["resource"]): { service: string; instance: string | undefined } {
  let id = identities.get(resource);
  if (id === undefined) {
    const a = resource.attributes;
    const service = typeof a["service.name"] === "string" && a["service.name"] !== "" ? a["service.name"] : "unknown_service";
    const parts = [a["host.name"], a["process.pid"]].filter((p) => p !== undefined);
    const instance = a["service.instance.id"] !== undefined ? String(a["service.instance.id"]) : parts.length > 0 ? parts.join(":") : undefined;
    id = { service, instance };
    identities.set(resource, id);
  }
  return id;
}

/** Converts one SDK span; bounded by the sink's span limits. */
function fromFeedSpan(span: FeedSpan, sink: TelemetrySink): DashboardSpan {
  const limits = sink.spanLimits;
  const { traceId, spanId } = span.spanContext();
  const startMs = hrToMs(span.startTime);
  const { attributes, bytes } = collectAttributes(attributeEntries(span.attributes), limits);
  const status = STATUS[span.status.code] ?? "unset";
  const events = span.events.slice(0, limits.maxEventsPerSpan).map((e) => ({
    name: e.name,
    timeMs: hrToMs(e.time),
    attributes: collectAttributes(attributeEntries(e.attributes ?? {}), limits).attributes,
  }));
  return {
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? span.parentSpanId,
    name: span.name,
    kind: KINDS[span.kind] ?? "internal",
    ...identity(span.resource),
    startMs,
    durationMs: Math.max(0, hrToMs(span.endTime) - startMs),
    status,
    statusMessage: span.status.message,
    code: outcomeLabel(attributes, status),
    attributes,
    events,
    bytes: SPAN_OVERHEAD_BYTES + bytes + events.length * 128,
  };
}

function* attributeEntries(attributes: Readonly<Record<string, unknown>>): Generator<[string, DashboardAttributeValue | undefined]> {
  for (const key in attributes) {
    const v = attributes[key];
    yield [key, typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : Array.isArray(v) ? JSON.stringify(v) : undefined];
  }
}

function hrToMs(time: HrTime): number {
  return time[0] * 1000 + time[1] / 1e6;
}
