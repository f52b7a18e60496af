/**
 * The Messaging view's data: the message flow from spans (messaging-stats.ts)
 * with each consumer group's backlog from the broker, as Ferry's consumers
 * report it through the `ferry.messaging.consumer.pending` and
 * `ferry.messaging.consumer.unacked` gauges (JetStream `num_pending` /
 * `num_ack_pending`, RabbitMQ `messages_ready`, Redis group `lag` /
 * `XPENDING`; see ferry/observability's consumer backlog telemetry), received
 * over OTLP metrics or the in-process metric feed. A group that reports a
 * backlog but had no delivery in the window is listed too: that is the
 * lagging group one looks for.
 */
import type { GroupFlow, TopicFlow } from "./messaging-stats.js";
import type { MessagingBroker } from "./messaging-actions.js";
import type { TelemetrySink } from "./telemetry-sink.js";

/** The gauges read (names of ferry/observability). */
export const PENDING_METRIC = "ferry.messaging.consumer.pending";
export const UNACKED_METRIC = "ferry.messaging.consumer.unacked";

/** A consumer group with its backlog: `pending` (not delivered yet) and `unacked` (delivered, not settled); `null` where not reported. */
export interface GroupBacklogFlow extends GroupFlow {
  readonly pending: number | null;
  readonly unacked: number | null;
  /** Unix ms of the backlog reading. */
  readonly backlogAtMs: number | null;
}

interface Backlog {
  pending: number | null;
  unacked: number | null;
  atMs: number;
}

const EMPTY_GROUP: Omit<GroupFlow, "group"> = { services: [], deliveries: 0, ratePerSec: 0, failed: 0, redelivered: 0, acked: 0, nacked: 0, deadLettered: 0, p99Ms: null };

/** `GET /api/messaging`: topics with their groups' flow and backlog, recent dead letters, and what the broker client can do. */
export function messagingOverview(sink: TelemetrySink, messaging: MessagingBroker | undefined): unknown {
  const backlog = readBacklog(sink);
  const topics = sink.messaging.topics().map((t) => ({ ...t, groups: [...t.groups] as GroupFlow[] }));
  for (const key of backlog.keys()) {
    const [topic, group] = key.split("\u0000");
    let flow = topics.find((t) => t.topic === topic);
    if (flow === undefined) topics.push((flow = { topic, systems: [], published: 0, publishRatePerSec: 0, publishErrors: 0, groups: [] }));
    if (!flow.groups.some((g) => g.group === group)) flow.groups.push({ group, ...EMPTY_GROUP });
  }
  const withBacklog = topics.map((t): TopicFlow & { groups: GroupBacklogFlow[] } => ({
    ...t,
    groups: t.groups.map((g) => {
      const b = backlog.get(`${t.topic}\u0000${g.group}`);
      return { ...g, pending: b?.pending ?? null, unacked: b?.unacked ?? null, backlogAtMs: b?.atMs ?? null };
    }),
  }));
  const broker = messaging === undefined ? null : { kind: messaging.broker.kind, replayByTime: messaging.tools.replayByTime };
  return { topics: withBacklog, deadLetters: sink.messaging.deadLetters(), broker };
}

/** The latest backlog reading per topic and group (every member of a group reports the broker's figure for the group). */
function readBacklog(sink: TelemetrySink): Map<string, Backlog> {
  const out = new Map<string, Backlog>();
  for (const p of sink.metrics.points({ prefix: "ferry.messaging.consumer." })) {
    if (p.name !== PENDING_METRIC && p.name !== UNACKED_METRIC) continue;
    const topic = p.attributes["messaging.destination.name"];
    const group = p.attributes["messaging.consumer.group.name"];
    if (topic === undefined || group === undefined) continue;
    const key = `${String(topic)}\u0000${String(group)}`;
    let b = out.get(key);
    if (b === undefined) out.set(key, (b = { pending: null, unacked: null, atMs: p.timeMs }));
    b.atMs = Math.max(b.atMs, p.timeMs);
    if (p.name === PENDING_METRIC) b.pending = p.value;
    else b.unacked = p.value;
  }
  return out;
}
