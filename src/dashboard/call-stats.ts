/**
 * Per service and method call statistics from spans: every SERVER span
 * (the method as its service saw it), CLIENT span (as its caller saw it),
 * and CONSUMER span (one delivery attempt of a consumer group) counts once
 * under `{service, side, operation}`. Rates, errors by status code and
 * p50/p90/p99 come from {@link WindowedStats}.
 *
 * The operation is the span name, which the OpenTelemetry RPC conventions
 * make `{rpc.service}/{rpc.method}` and the messaging conventions
 * `process {destination}`; the consumer group is appended for consumers.
 */
import { isErrorOutcome, type DashboardSpan } from "./dashboard-span.js";
import { SeriesTable } from "./series-table.js";
import type { ResolvedWindowOptions, SeriesPoint, StatsSummary } from "./windowed-stats.js";

/** Which end of a call a series describes. */
export type CallSide = "server" | "client" | "consumer";

/** What a series is about. */
export interface CallKey {
  readonly service: string;
  readonly side: CallSide;
  /** `pkg.Service/Method`, or `process topic [group]` for consumers. */
  readonly operation: string;
}

/** One row of the Calls table: the key and the window's figures. */
export interface CallRow extends CallKey, StatsSummary {
  /** Unix ms of the latest bucket with a call. */
  readonly lastActivityMs: number | undefined;
}

const SIDES: Partial<Record<DashboardSpan["kind"], CallSide>> = { server: "server", client: "client", consumer: "consumer" };

/** Call statistics per service, side and operation, bounded by `maxSeries`. */
export class CallStats {
  readonly #table: SeriesTable<CallKey>;

  constructor(maxSeries: number, window: ResolvedWindowOptions) {
    this.#table = new SeriesTable(maxSeries, window);
  }

  /** Counts `span` if it is a SERVER, CLIENT or CONSUMER span; other kinds are ignored. */
  record(span: DashboardSpan): void {
    const side = SIDES[span.kind];
    if (side === undefined) return;
    const group = span.attributes["messaging.consumer.group.name"];
    const operation = side === "consumer" && group !== undefined ? `${span.name} [${String(group)}]` : span.name;
    const key = `${span.service}\u0000${side}\u0000${operation}`;
    this.#table.record(key, () => ({ service: span.service, side, operation }), span.startMs + span.durationMs, span.durationMs, span.code, isErrorOutcome(span.code));
  }

  /** Every series with calls in the window, busiest first; `service` narrows to one service. */
  rows(filter: { service?: string } = {}, nowMs = Date.now()): CallRow[] {
    const rows: CallRow[] = [];
    for (const [, { label, stats }] of this.#table.entries()) {
      if (filter.service !== undefined && label.service !== filter.service) continue;
      const summary = stats.summary(nowMs);
      if (summary.count === 0) continue;
      rows.push({ ...label, ...summary, lastActivityMs: stats.lastActivityMs(nowMs) });
    }
    return rows.sort((a, b) => b.count - a.count);
  }

  /** The per-bucket series of one key (oldest first), or `undefined` when it is not kept. */
  series(key: CallKey, nowMs = Date.now()): SeriesPoint[] | undefined {
    return this.#table.get(`${key.service}\u0000${key.side}\u0000${key.operation}`)?.stats.series(nowMs);
  }
}
