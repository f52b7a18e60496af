/**
 * The dashboard's JSON API (`GET`, read-only), what the page and scripts read:
 *
 * | path | answer |
 * |---|---|
 * | `/api/overview` | `{ version, usage, limits, services }` |
 * | `/api/topology` | {@link TopologyGraph}: nodes and edges over the window; with a registry, service nodes carry `registered` instances and the graph `registry: { kind, error }` |
 * | `/api/calls?service=` | {@link CallRow}[]: per service, side and operation, busiest first |
 * | `/api/calls/series?service=&side=&operation=` | `{ bucketMs, points: SeriesPoint[] }`, oldest first; 404 when not kept |
 * | `/api/traces?service=&method=&status=&minDurationMs=&limit=` | {@link TraceSummary}[], newest first |
 * | `/api/traces/{traceId}?waitMs=` | `{ summary, spans }` (spans by start time); 404 when not retained, after waiting up to `waitMs` (0–5000, default 0) for a trace still on its way (a link to a call that just ended) |
 * | `/api/metrics?service=&prefix=` | latest {@link MetricPoint}s |
 * | `/api/messaging` | `{ topics: TopicFlow[] (groups with pending/unacked from the backlog gauges), deadLetters: DeadLetterRecord[], broker: { kind, replayByTime } \| null }` |
 * | `/api/resilience` | `{ breakers, counts: PolicyEventCount[], recent: PolicyEventRecord[] }` |
 *
 * Bad query values are 400 with `{ code, message }`. The broker actions are
 * in messaging-actions.ts, the explorer's in explorer-routes.ts.
 */
import type { ServerResponse } from "node:http";
import type { CallSide } from "./call-stats.js";
import { HttpError, sendJson } from "./http-replies.js";
import type { Connections } from "./dashboard-router.js";
import { messagingOverview } from "./messaging-backlog.js";
import type { RegistryView } from "./registry-view.js";
import type { TelemetrySink } from "./telemetry-sink.js";

const SIDES: readonly CallSide[] = ["server", "client", "consumer"];

/** Answers `GET {path}` under `/api/`; throws {@link HttpError} 404 for an unknown path, 400 for bad parameters. */
export async function answerApi(res: ServerResponse, url: URL, sink: TelemetrySink, connections?: Connections): Promise<void> {
  const registry = connections?.registry;
  const path = url.pathname;
  const q = url.searchParams;
  if (path === "/api/overview") return sendJson(res, overview(sink));
  if (path === "/api/topology") return sendJson(res, await topology(sink, registry));
  if (path === "/api/calls") return sendJson(res, sink.calls.rows({ service: optional(q, "service") }));
  if (path === "/api/calls/series") return sendJson(res, callSeries(sink, q));
  if (path === "/api/traces") {
    return sendJson(res, sink.traces.search({
      service: optional(q, "service"),
      method: optional(q, "method"),
      status: optional(q, "status"),
      minDurationMs: numberParam(q, "minDurationMs", 0, Number.MAX_SAFE_INTEGER),
      limit: numberParam(q, "limit", 1, 1_000),
    }));
  }
  if (path.startsWith("/api/traces/")) {
    const waitMs = numberParam(q, "waitMs", 0, MAX_TRACE_WAIT_MS) ?? 0;
    return sendJson(res, await oneTrace(sink, path.slice("/api/traces/".length), waitMs));
  }
  if (path === "/api/metrics") return sendJson(res, sink.metrics.points({ service: optional(q, "service"), prefix: optional(q, "prefix") }));
  if (path === "/api/messaging") return sendJson(res, messagingOverview(sink, connections?.messaging));
  if (path === "/api/resilience") return sendJson(res, resilience(sink));
  throw new HttpError(404, `no API at ${path}; see docs/dashboard.md`);
}

/** The map, with each service node's registered instances when a registry is given. */
async function topology(sink: TelemetrySink, registry: RegistryView | undefined): Promise<unknown> {
  const graph = sink.topology.graph();
  if (registry === undefined) return graph;
  let error: string | undefined;
  const nodes = await Promise.all(graph.nodes.map(async (node) => {
    if (node.kind !== "service" || node.rpcServices.length === 0) return node;
    const found = await registry.instancesOf(node.rpcServices);
    error ??= found.error;
    return { ...node, registered: found.instances };
  }));
  return { ...graph, nodes, registry: { kind: registry.kind, error } };
}

function overview(sink: TelemetrySink): unknown {
  const services = sink.topology.graph().nodes.filter((n) => n.kind === "service").map((n) => n.label).sort();
  return { version: sink.version, usage: sink.usage, limits: sink.limits, services };
}

/** Breaker states reported by the `ferry.resilience.circuit_breaker.state` gauge: 0 closed, 1 half-open, 2 open. */
const BREAKER_STATES = ["closed", "half-open", "open"];

function resilience(sink: TelemetrySink): unknown {
  const breakers = sink.metrics.points({ prefix: "ferry.resilience.circuit_breaker.state" }).map((p) => ({
    service: p.service,
    policy: String(p.attributes["ferry.policy"] ?? ""),
    state: BREAKER_STATES[p.value] ?? String(p.value),
    timeMs: p.timeMs,
  }));
  return { breakers, counts: sink.policyEvents.counts(), recent: sink.policyEvents.recent() };
}

function callSeries(sink: TelemetrySink, q: URLSearchParams): unknown {
  const service = required(q, "service");
  const operation = required(q, "operation");
  const side = (q.get("side") ?? "server") as CallSide;
  if (!SIDES.includes(side)) throw new HttpError(400, `side must be one of ${SIDES.join(", ")}`);
  const points = sink.calls.series({ service, side, operation });
  if (points === undefined) throw new HttpError(404, `no calls recorded for ${service} ${side} ${operation}`);
  return { bucketMs: sink.limits.bucketMs, points };
}

/** Longest wait `GET /api/traces/{id}?waitMs=` accepts, in ms. */
const MAX_TRACE_WAIT_MS = 5_000;
/** How often a waiting trace request looks again, in ms. */
const TRACE_POLL_MS = 50;

/**
 * One trace. Spans reach the store in batches (the in-process feed every
 * 200 ms, OTLP exporters every few seconds), so a link to a call that has
 * just ended may arrive first: with `waitMs` the request looks again every
 * 50 ms until the trace is there or the wait is over.
 */
async function oneTrace(sink: TelemetrySink, traceId: string, waitMs: number): Promise<unknown> {
  if (!/^[0-9a-fA-F]{32}$/.test(traceId)) throw new HttpError(400, "a trace id is 32 hex digits");
  const deadline = Date.now() + waitMs;
  let trace = sink.traces.trace(traceId);
  while (trace === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, TRACE_POLL_MS));
    trace = sink.traces.trace(traceId);
  }
  if (trace === undefined) throw new HttpError(404, `trace ${traceId} is not retained (never received, or evicted by the retention limits)`);
  return trace;
}

function optional(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === "" ? undefined : v;
}

function required(q: URLSearchParams, name: string): string {
  const v = optional(q, name);
  if (v === undefined) throw new HttpError(400, `the query parameter ${name} is required`);
  return v;
}

function numberParam(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const v = optional(q, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new HttpError(400, `${name} must be a number from ${min} to ${max}`);
  return n;
}
