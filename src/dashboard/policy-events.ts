/**
 * Resilience and channel activity from span events: Ferry's
 * `observeResilience()` and `observeChannel()` put every policy event
 * (retry, hedge, timeout, breaker opened/half-open/closed/rejected, bulkhead
 * and rate-limit rejections, fallback) as `ferry.resilience.<type>` and
 * every channel event (endpoint ejected/restored, subchannel state, …) as
 * `ferry.channel.<type>` on the call's span. Counted per service, operation
 * and event over the window; the most recent ones are kept with their
 * attributes and trace.
 */
import type { DashboardAttributeValue, DashboardSpan } from "./dashboard-span.js";
import { SeriesTable } from "./series-table.js";
import type { ResolvedWindowOptions } from "./windowed-stats.js";

/** The span event name prefixes counted here. */
export const POLICY_EVENT_PREFIXES = ["ferry.resilience.", "ferry.channel."] as const;

/** One event as it happened. */
export interface PolicyEventRecord {
  /** Unix ms. */
  readonly atMs: number;
  readonly service: string;
  /** The span's name: the call (`pkg.Service/Method`) the event happened in. */
  readonly operation: string;
  /** The full event name, e.g. `ferry.resilience.retry`. */
  readonly event: string;
  readonly attributes: Readonly<Record<string, DashboardAttributeValue>>;
  readonly traceId: string;
}

/** How often an event happened in the window, per service and operation. */
export interface PolicyEventCount {
  readonly service: string;
  readonly operation: string;
  readonly event: string;
  readonly count: number;
  /** Unix ms of the latest bucket with the event. */
  readonly lastMs: number | undefined;
}

/** Policy and channel events, bounded by `maxSeries` counters and `maxRecentEvents` records. */
export class PolicyEvents {
  readonly #counts: SeriesTable<{ service: string; operation: string; event: string }>;
  readonly #recent: PolicyEventRecord[] = [];
  readonly #maxRecent: number;

  /** @param limits `maxSeries` counters kept; `maxRecentEvents` recent events kept (default 200). */
  constructor(limits: { maxSeries: number; maxRecentEvents?: number }, window: ResolvedWindowOptions) {
    this.#counts = new SeriesTable(limits.maxSeries, window);
    this.#maxRecent = Math.max(1, limits.maxRecentEvents ?? 200);
  }

  /** Counts the policy and channel events of `span`. O(events). */
  record(span: DashboardSpan): void {
    for (const e of span.events) {
      if (!POLICY_EVENT_PREFIXES.some((p) => e.name.startsWith(p))) continue;
      const key = `${span.service}\u0000${span.name}\u0000${e.name}`;
      this.#counts.record(key, () => ({ service: span.service, operation: span.name, event: e.name }), e.timeMs, 0, "OK", false);
      if (this.#recent.length >= this.#maxRecent) this.#recent.shift();
      this.#recent.push({ atMs: e.timeMs, service: span.service, operation: span.name, event: e.name, attributes: e.attributes, traceId: span.traceId });
    }
  }

  /** Events in the window per service, operation and event, most frequent first. */
  counts(nowMs = Date.now()): PolicyEventCount[] {
    const rows: PolicyEventCount[] = [];
    for (const [, { label, stats }] of this.#counts.entries()) {
      const count = stats.summary(nowMs).count;
      if (count > 0) rows.push({ ...label, count, lastMs: stats.lastActivityMs(nowMs) });
    }
    return rows.sort((a, b) => b.count - a.count);
  }

  /** The most recent events, newest first. */
  recent(): PolicyEventRecord[] {
    return [...this.#recent].reverse();
  }
}
