/**
 * The service map, built from spans: a node per service (with its
 * instances and transports), per topic and per consumer group, and an edge
 * per observed call path and message flow, each with rate, error rate and
 * p99 over the window.
 *
 * - RPC: a CLIENT span in service A whose child is a SERVER span in service
 *   B is an edge A → B (figures from the client span: what the caller saw);
 *   so is a SERVER span in A (an HTTP gateway without client spans) whose
 *   child is a SERVER span in B (figures from the child).
 *   Spans of one trace arrive in any order and from several processes, so a
 *   SERVER span whose parent is not known yet waits in a bounded table.
 * - Messaging (OpenTelemetry messaging conventions): a PRODUCER span is an
 *   edge service → topic (`messaging.destination.name`); a CONSUMER span is
 *   topic → consumer group (`messaging.consumer.group.name`) → service.
 * - Services in one process: a process (`service.name`) whose SERVER spans
 *   handle two or more RPC services (`rpc.service`, not counting `grpc.*`
 *   services such as health and reflection; e.g. the in-process shop) is
 *   drawn as one node per RPC service, `service:PROCESS/RPC_SERVICE`
 *   labelled with the service's short name. A span is placed on the RPC
 *   service it works for: its own `rpc.service` for a SERVER span, else that
 *   of the nearest SERVER ancestor in the same process (looked up among the
 *   retained spans, at most 16 hops, never across a CONSUMER span); spans
 *   with none (an HTTP gateway, a message handler) stay on the process node.
 *   When a process turns out to host several, what was drawn for it as one
 *   node is dropped and drawn again from the next spans.
 */
import { isErrorOutcome, type DashboardSpan } from "./dashboard-span.js";
import { SeriesTable } from "./series-table.js";
import { WindowedStats, type ResolvedWindowOptions } from "./windowed-stats.js";

/** What a node stands for. */
export type TopologyNodeKind = "service" | "topic" | "group";

/** A node of {@link TopologyGraph}. */
export interface TopologyNode {
  /** `service:NAME`, `service:PROCESS/RPC_SERVICE` (one of several RPC services in a process), `topic:NAME` or `group:TOPIC/GROUP`. */
  readonly id: string;
  readonly kind: TopologyNodeKind;
  readonly label: string;
  /** Services: the process's `service.name` (differs from `label` for an RPC service of a process hosting several). */
  readonly process?: string;
  /** Instances seen (`service.instance.id` or host:pid), at most 32. Services only. */
  readonly instances: readonly string[];
  /** Transports seen on its spans (`ferry.transport`, else `rpc.system`, else `messaging.system`), at most 8. Services only. */
  readonly transports: readonly string[];
  /** RPC services its SERVER spans handled (`rpc.service`), at most 16: what the registry knows it by. Services only. */
  readonly rpcServices: readonly string[];
  /** Inbound calls and deliveries it handled in the window, their error rate and p99 (ms). */
  readonly count: number;
  readonly errorRate: number;
  readonly p99Ms: number | null;
  /** `ok` without errors, `degraded` below 50 % errors, `failing` at or above, `idle` without calls. */
  readonly health: "ok" | "degraded" | "failing" | "idle";
  /** Unix ms of the last span that mentioned it. */
  readonly lastSeenMs: number;
}

/** What an edge carries: calls, publishes, deliveries to a group, or a group's deliveries to its service. */
export type TopologyEdgeKind = "rpc" | "publish" | "deliver" | "consume";

/** An edge of {@link TopologyGraph}, with the window's figures. */
export interface TopologyEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly kind: TopologyEdgeKind;
  /** Operations seen on it (span names of the callee, at most 16). */
  readonly operations: readonly string[];
  readonly count: number;
  readonly ratePerSec: number;
  readonly errorRate: number;
  readonly codes: Readonly<Record<string, number>>;
  readonly p99Ms: number | null;
}

/** The service map at one moment: what the Topology view draws. */
export interface TopologyGraph {
  readonly nodes: TopologyNode[];
  readonly edges: TopologyEdge[];
}

interface NodeState {
  readonly id: string;
  readonly kind: TopologyNodeKind;
  readonly label: string;
  readonly process: string | undefined;
  readonly instances: Set<string>;
  readonly transports: Set<string>;
  readonly rpcServices: Set<string>;
  readonly inbound: WindowedStats;
  lastSeenMs: number;
}

interface EdgeLabel {
  readonly source: string;
  readonly target: string;
  readonly kind: TopologyEdgeKind;
  readonly operations: Set<string>;
}

/** Finds a retained span by id (the trace store's index). */
export type SpanLookup = (spanId: string) => DashboardSpan | undefined;

/** Builds the service map from spans; bounded in nodes, edges and waiting spans. */
export class Topology {
  readonly #window: ResolvedWindowOptions;
  readonly #maxNodes: number;
  readonly #maxPending: number;
  readonly #nodes = new Map<string, NodeState>();
  readonly #edges: SeriesTable<EdgeLabel>;
  /** SERVER spans whose parent has not arrived, by parent span id (oldest first). */
  readonly #pending = new Map<string, DashboardSpan>();
  /** RPC services each process's SERVER spans handled (at most 2 recorded: one or several is what matters). */
  readonly #processServices = new Map<string, Set<string>>();

  /**
   * @param limits `maxSeries`: nodes and edges kept each (least recently
   *   seen dropped first); `maxPendingLinks`: SERVER spans waiting for their
   *   CLIENT parent.
   */
  constructor(limits: { maxSeries: number; maxPendingLinks: number }, window: ResolvedWindowOptions) {
    this.#window = window;
    this.#maxNodes = Math.max(1, limits.maxSeries);
    this.#maxPending = Math.max(0, limits.maxPendingLinks);
    this.#edges = new SeriesTable(limits.maxSeries, window);
  }

  /** Notes which RPC services each process serves, before a batch is recorded (so its first spans are placed right). */
  notice(spans: readonly DashboardSpan[]): void {
    for (const span of spans) {
      const rpcService = span.kind === "server" ? span.attributes["rpc.service"] : undefined;
      if (rpcService !== undefined) this.#noteRpcService(span.service, String(rpcService));
    }
  }

  /** Adds what `span` says about the map. `find` looks up its parent among retained spans. O(1). */
  record(span: DashboardSpan, find: SpanLookup): void {
    this.notice([span]);
    const rpcService = span.kind === "server" ? span.attributes["rpc.service"] : undefined;
    const service = this.#serviceNode(span, find);
    if (span.instance !== undefined && service.instances.size < 32) service.instances.add(span.instance);
    const transport = span.attributes["ferry.transport"] ?? span.attributes["rpc.system"] ?? span.attributes["messaging.system"];
    if (transport !== undefined && service.transports.size < 8) service.transports.add(String(transport));
    if (rpcService !== undefined && service.rpcServices.size < 16) service.rpcServices.add(String(rpcService));
    if (span.kind === "server" || span.kind === "consumer") {
      service.inbound.record(span.startMs + span.durationMs, span.durationMs, span.code, isErrorOutcome(span.code));
    }
    if (span.kind === "server") this.#linkServer(span, find);
    if (span.kind === "server" || span.kind === "client") this.#linkWaiting(span, find);
    else if (span.kind === "producer") this.#recordPublish(span, find);
    else if (span.kind === "consumer") this.#recordDelivery(span, find);
  }

  /** The map over the window: nodes seen in it and edges with traffic in it. */
  graph(nowMs = Date.now()): TopologyGraph {
    const oldest = nowMs - this.#window.windowMs;
    const nodes: TopologyNode[] = [];
    for (const n of this.#nodes.values()) {
      if (n.lastSeenMs <= oldest) continue;
      const s = n.inbound.summary(nowMs);
      const health = s.count === 0 ? "idle" : s.errors === 0 ? "ok" : s.errorRate < 0.5 ? "degraded" : "failing";
      nodes.push({ id: n.id, kind: n.kind, label: n.label, ...(n.process === undefined ? {} : { process: n.process }), instances: [...n.instances], transports: [...n.transports], rpcServices: [...n.rpcServices], count: s.count, errorRate: s.errorRate, p99Ms: s.p99Ms, health, lastSeenMs: n.lastSeenMs });
    }
    const present = new Set(nodes.map((n) => n.id));
    const edges: TopologyEdge[] = [];
    for (const [id, { label, stats }] of this.#edges.entries()) {
      if (!present.has(label.source) || !present.has(label.target) || label.source === label.target) continue; // self-loops: in-process calls seen before the process was split
      const s = stats.summary(nowMs);
      if (s.count === 0) continue;
      edges.push({ id, source: label.source, target: label.target, kind: label.kind, operations: [...label.operations], count: s.count, ratePerSec: s.ratePerSec, errorRate: s.errorRate, codes: s.codes, p99Ms: s.p99Ms });
    }
    return { nodes, edges };
  }

  #linkServer(server: DashboardSpan, find: SpanLookup): void {
    if (server.parentSpanId === undefined) return;
    const parent = find(server.parentSpanId);
    if (parent !== undefined) {
      this.#recordCall(parent, server, find);
      return;
    }
    if (this.#maxPending === 0) return;
    if (this.#pending.size >= this.#maxPending) this.#pending.delete(this.#pending.keys().next().value as string);
    this.#pending.set(server.parentSpanId, server);
  }

  /** A SERVER span that waited for `parent`. */
  #linkWaiting(parent: DashboardSpan, find: SpanLookup): void {
    const server = this.#pending.get(parent.spanId);
    if (server === undefined) return;
    this.#pending.delete(parent.spanId);
    this.#recordCall(parent, server, find);
  }

  /** An edge for a call from `caller` (a CLIENT span, or the SERVER span of an HTTP gateway) to `server`. */
  #recordCall(caller: DashboardSpan, server: DashboardSpan, find: SpanLookup): void {
    if (caller.kind !== "client" && caller.kind !== "server") return;
    const source = this.#serviceNode(caller, find).id;
    const target = this.#serviceNode(server, find).id;
    if (caller.kind === "server" && source === target) return;
    this.#edge(source, target, "rpc", server.name, caller.kind === "client" ? caller : server);
  }

  #recordPublish(span: DashboardSpan, find: SpanLookup): void {
    const topic = span.attributes["messaging.destination.name"];
    if (topic === undefined) return;
    const topicId = this.#node(`topic:${String(topic)}`, "topic", String(topic), span.startMs + span.durationMs).id;
    this.#edge(this.#serviceNode(span, find).id, topicId, "publish", span.name, span);
  }

  #recordDelivery(span: DashboardSpan, find: SpanLookup): void {
    const topic = span.attributes["messaging.destination.name"];
    if (topic === undefined) return;
    const at = span.startMs + span.durationMs;
    const topicNode = this.#node(`topic:${String(topic)}`, "topic", String(topic), at);
    topicNode.inbound.record(at, span.durationMs, span.code, isErrorOutcome(span.code));
    const group = span.attributes["messaging.consumer.group.name"];
    if (group === undefined) {
      this.#edge(topicNode.id, this.#serviceNode(span, find).id, "consume", span.name, span);
      return;
    }
    const groupNode = this.#node(`group:${String(topic)}/${String(group)}`, "group", String(group), at);
    groupNode.inbound.record(at, span.durationMs, span.code, isErrorOutcome(span.code));
    this.#edge(topicNode.id, groupNode.id, "deliver", span.name, span);
    this.#edge(groupNode.id, this.#serviceNode(span, find).id, "consume", span.name, span);
  }

  #noteRpcService(process: string, rpcService: string): void {
    if (rpcService.startsWith("grpc.")) return; // health, reflection: every server has them
    let known = this.#processServices.get(process);
    if (known === undefined) {
      if (this.#processServices.size >= this.#maxNodes) this.#processServices.delete(this.#processServices.keys().next().value as string);
      this.#processServices.set(process, (known = new Set()));
    }
    if (known.size >= 2 || known.has(rpcService)) return;
    known.add(rpcService);
    if (known.size === 2) this.#forget(`service:${process}`);
  }

  /** Drops a node and its edges (a process drawn as one node until it turned out to host several RPC services). */
  #forget(nodeId: string): void {
    this.#nodes.delete(nodeId);
    const stale: string[] = [];
    for (const [id, { label }] of this.#edges.entries()) if (label.source === nodeId || label.target === nodeId) stale.push(id);
    for (const id of stale) this.#edges.delete(id);
  }

  /** The service node `span` belongs to: its process, or the RPC service it works for in a process hosting several. */
  #serviceNode(span: DashboardSpan, find: SpanLookup): NodeState {
    const at = span.startMs + span.durationMs;
    const rpcService = (this.#processServices.get(span.service)?.size ?? 0) >= 2 ? rpcServiceOf(span, find) : undefined;
    if (rpcService === undefined) return this.#node(`service:${span.service}`, "service", span.service, at);
    return this.#node(`service:${span.service}/${rpcService}`, "service", rpcService.slice(rpcService.lastIndexOf(".") + 1), at, span.service);
  }

  #node(id: string, kind: TopologyNodeKind, label: string, atMs: number, process?: string): NodeState {
    let node = this.#nodes.get(id);
    if (node === undefined) {
      if (this.#nodes.size >= this.#maxNodes) this.#nodes.delete(this.#nodes.keys().next().value as string);
      node = { id, kind, label, process, instances: new Set(), transports: new Set(), rpcServices: new Set(), inbound: new WindowedStats(this.#window), lastSeenMs: atMs };
    } else this.#nodes.delete(id);
    this.#nodes.set(id, node);
    node.lastSeenMs = Math.max(node.lastSeenMs, atMs);
    return node;
  }

  #edge(source: string, target: string, kind: TopologyEdgeKind, operation: string, span: DashboardSpan): void {
    const id = `${source}->${target}`;
    this.#edges.record(id, () => ({ source, target, kind, operations: new Set() }), span.startMs + span.durationMs, span.durationMs, span.code, isErrorOutcome(span.code));
    const operations = this.#edges.get(id)?.label.operations;
    if (operations !== undefined && operations.size < 16) operations.add(operation);
  }
}

/** Most parent hops {@link rpcServiceOf} follows. */
const MAX_ANCESTOR_HOPS = 16;

/**
 * The RPC service `span` works for: a SERVER span's own `rpc.service`, else
 * that of its nearest SERVER ancestor in the same process; `undefined` when
 * the chain leaves the process, reaches a CONSUMER span (a message handler
 * works for no RPC service), or an ancestor is not retained.
 */
function rpcServiceOf(span: DashboardSpan, find: SpanLookup): string | undefined {
  let current: DashboardSpan | undefined = span;
  for (let hop = 0; current !== undefined && hop <= MAX_ANCESTOR_HOPS; hop++) {
    if (current.kind === "server") {
      const rpcService = current.attributes["rpc.service"];
      return rpcService === undefined ? undefined : String(rpcService);
    }
    if (current.kind === "consumer" || current.parentSpanId === undefined) return undefined;
    const parent = find(current.parentSpanId);
    if (parent === undefined || parent.service !== span.service || parent.instance !== span.instance) return undefined;
    current = parent;
  }
  return undefined;
}
