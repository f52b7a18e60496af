/**
 * Recent traces, bounded by count and bytes: a ring of traces in arrival
 * order (oldest evicted first when `maxTraces` or `maxSpanBytes` is
 * exceeded), each holding at most `maxSpansPerTrace` spans, plus an index
 * of retained spans by id (how the topology pairs a SERVER span with its
 * CLIENT parent). Adding a span is O(1) amortised.
 */
import { isErrorOutcome, type DashboardSpan } from "./dashboard-span.js";

/** Retention limits of the trace store. */
export interface TraceStoreLimits {
  /** Traces kept. Default 2 000. */
  readonly maxTraces?: number;
  /** Approximate bytes of all retained spans (see `DashboardSpan.bytes`). Default 32 MiB. */
  readonly maxSpanBytes?: number;
  /** Spans kept per trace; later ones are counted in `droppedSpans`. Default 1 000. */
  readonly maxSpansPerTrace?: number;
}

/** The defaults of {@link TraceStoreLimits}. */
export const DEFAULT_TRACE_STORE_LIMITS: Required<TraceStoreLimits> = Object.freeze({ maxTraces: 2_000, maxSpanBytes: 32 * 1024 * 1024, maxSpansPerTrace: 1_000 });

interface TraceEntry {
  readonly traceId: string;
  readonly spans: DashboardSpan[];
  bytes: number;
  droppedSpans: number;
}

/** One line of the trace list. */
export interface TraceSummary {
  readonly traceId: string;
  /** The root span's (or else the earliest span's) service and name. */
  readonly rootService: string;
  readonly rootName: string;
  /** Unix ms of the earliest span start. */
  readonly startMs: number;
  /** From the earliest start to the latest end, in ms. */
  readonly durationMs: number;
  readonly spanCount: number;
  readonly droppedSpans: number;
  readonly services: readonly string[];
  /** Whether any span failed (error status or an error code). */
  readonly error: boolean;
  /** Outcome labels of the failed spans (`UNAVAILABLE`, `HTTP 503`, …). */
  readonly errorCodes: readonly string[];
}

/** A search of the trace list; every field narrows it. */
export interface TraceQuery {
  /** Some span of the trace belongs to this service. */
  readonly service?: string;
  /** Some span's name contains this text, or its `rpc.method` equals it. */
  readonly method?: string;
  /** `error`: some span failed; `ok`: none did; any other text: some span has this outcome label (`UNAVAILABLE`). */
  readonly status?: string;
  /** The trace lasted at least this many ms. */
  readonly minDurationMs?: number;
  /** Traces returned, newest first. Default 100, at most 1 000. */
  readonly limit?: number;
}

/** A bounded store of recent traces. */
export class TraceStore {
  readonly #limits: Required<TraceStoreLimits>;
  readonly #traces = new Map<string, TraceEntry>();
  readonly #spans = new Map<string, DashboardSpan>();
  #bytes = 0;

  constructor(limits: TraceStoreLimits = {}) {
    this.#limits = { ...DEFAULT_TRACE_STORE_LIMITS, ...definedOnly(limits) };
  }

  /** Retains `span`; returns `false` when its trace is full (the span is dropped). */
  add(span: DashboardSpan): boolean {
    let entry = this.#traces.get(span.traceId);
    if (entry === undefined) {
      entry = { traceId: span.traceId, spans: [], bytes: 0, droppedSpans: 0 };
      this.#traces.set(span.traceId, entry);
    }
    if (entry.spans.length >= this.#limits.maxSpansPerTrace) {
      entry.droppedSpans++;
      return false;
    }
    entry.spans.push(span);
    entry.bytes += span.bytes;
    this.#bytes += span.bytes;
    this.#spans.set(span.spanId, span);
    this.#evict(entry);
    return true;
  }

  /** A retained span by span id. */
  span(spanId: string): DashboardSpan | undefined {
    return this.#spans.get(spanId);
  }

  /** Every retained span of one trace, by start time, or `undefined` when it is not retained. */
  trace(traceId: string): { summary: TraceSummary; spans: DashboardSpan[] } | undefined {
    const entry = this.#traces.get(traceId.toLowerCase());
    if (entry === undefined) return undefined;
    return { summary: summarize(entry), spans: [...entry.spans].sort((a, b) => a.startMs - b.startMs) };
  }

  /** Traces matching `query`, newest first. */
  search(query: TraceQuery = {}): TraceSummary[] {
    const limit = Math.min(1_000, Math.max(1, query.limit ?? 100));
    const found: TraceSummary[] = [];
    const entries = [...this.#traces.values()];
    for (let i = entries.length - 1; i >= 0 && found.length < limit; i--) {
      const entry = entries[i];
      if (!matches(entry, query)) continue;
      const summary = summarize(entry);
      if (query.minDurationMs !== undefined && summary.durationMs < query.minDurationMs) continue;
      found.push(summary);
    }
    return found;
  }

  /** Retained traces, spans and their approximate bytes. */
  get usage(): { traces: number; spans: number; bytes: number } {
    return { traces: this.#traces.size, spans: this.#spans.size, bytes: this.#bytes };
  }

  /** Drops the oldest traces (never `keep`, the one just added to) while over a limit. */
  #evict(keep: TraceEntry): void {
    while (this.#traces.size > this.#limits.maxTraces || this.#bytes > this.#limits.maxSpanBytes) {
      const oldest = this.#traces.values().next().value as TraceEntry;
      if (oldest === keep) {
        if (this.#traces.size === 1) break; // one trace larger than the byte limit stays until the next one
        this.#traces.delete(oldest.traceId);
        this.#traces.set(oldest.traceId, oldest);
        continue;
      }
      this.#traces.delete(oldest.traceId);
      this.#bytes -= oldest.bytes;
      for (const s of oldest.spans) this.#spans.delete(s.spanId);
    }
  }
}

function matches(entry: TraceEntry, q: TraceQuery): boolean {
  if (q.service !== undefined && q.service !== "" && !entry.spans.some((s) => s.service === q.service)) return false;
  if (q.method !== undefined && q.method !== "") {
    const m = q.method;
    if (!entry.spans.some((s) => s.name.includes(m) || s.attributes["rpc.method"] === m)) return false;
  }
  if (q.status !== undefined && q.status !== "") {
    const failed = entry.spans.some((s) => s.status === "error" || isErrorOutcome(s.code));
    if (q.status === "error") return failed;
    if (q.status === "ok") return !failed;
    return entry.spans.some((s) => s.code === q.status);
  }
  return true;
}

function summarize(entry: TraceEntry): TraceSummary {
  let start = Infinity;
  let end = -Infinity;
  let root: DashboardSpan | undefined;
  const services = new Set<string>();
  const errorCodes = new Set<string>();
  for (const s of entry.spans) {
    start = Math.min(start, s.startMs);
    end = Math.max(end, s.startMs + s.durationMs);
    services.add(s.service);
    if (s.status === "error" || isErrorOutcome(s.code)) errorCodes.add(s.code);
    root = pickRoot(root, s);
  }
  return {
    traceId: entry.traceId,
    rootService: root?.service ?? "",
    rootName: root?.name ?? "",
    startMs: Number.isFinite(start) ? start : 0,
    durationMs: Number.isFinite(end) ? end - start : 0,
    spanCount: entry.spans.length,
    droppedSpans: entry.droppedSpans,
    services: [...services],
    error: errorCodes.size > 0,
    errorCodes: [...errorCodes],
  };
}

/** The better root of two: a span without a parent over one with, then the earlier one. */
function pickRoot(current: DashboardSpan | undefined, candidate: DashboardSpan): DashboardSpan {
  if (current === undefined) return candidate;
  const currentIsRoot = current.parentSpanId === undefined;
  const candidateIsRoot = candidate.parentSpanId === undefined;
  if (currentIsRoot !== candidateIsRoot) return candidateIsRoot ? candidate : current;
  return candidate.startMs < current.startMs ? candidate : current;
}

/** `options` without its `undefined` fields, so spreading it keeps the defaults. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
