import type { ObservableResult } from "@opentelemetry/api";
import { ATTR_MESSAGING_CONSUMER_GROUP_NAME, ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_SYSTEM, MESSAGING_SYSTEM_VALUE_RABBITMQ } from "@opentelemetry/semantic-conventions/incubating";
import type { ConsumerBacklog } from "../messaging/adapter.js";
import { instrumentsPerMeter } from "./telemetry-providers.js";

/** Gauge: messages stored for a consumer group and not delivered yet (JetStream `num_pending`, RabbitMQ `messages_ready`, Redis group `lag`). */
export const METRIC_FERRY_MESSAGING_CONSUMER_PENDING = "ferry.messaging.consumer.pending";
/** Gauge: messages delivered to a consumer group and not acked yet (JetStream `num_ack_pending`, Redis `XPENDING`). */
export const METRIC_FERRY_MESSAGING_CONSUMER_UNACKED = "ferry.messaging.consumer.unacked";

/** How long one scrape waits for the broker's answer, in ms, before it skips the subscription. */
export const BACKLOG_READ_TIMEOUT_MS = 2000;

const gauges = instrumentsPerMeter((meter) => ({
  pending: meter.createObservableGauge(METRIC_FERRY_MESSAGING_CONSUMER_PENDING, { description: "Messages stored for the group and not delivered yet", unit: "{message}" }),
  unacked: meter.createObservableGauge(METRIC_FERRY_MESSAGING_CONSUMER_UNACKED, { description: "Messages delivered to the group and not acked yet", unit: "{message}" }),
}));

/** The subscription a backlog belongs to. */
export interface BacklogSource {
  /** The adapter's name (`nats`, `amqp`, `redis`; `amqp` is reported as `rabbitmq`). */
  readonly system: string;
  /** The subscribed topic. */
  readonly destination: string;
  readonly group: string;
  /** Asks the broker (see `AdapterConsumer.backlog`). */
  readonly read: () => Promise<ConsumerBacklog>;
}

/**
 * Reports a subscription's backlog through the global meter, read from the
 * broker each time metrics are collected (a Prometheus scrape, an OTLP
 * export): {@link METRIC_FERRY_MESSAGING_CONSUMER_PENDING} and
 * {@link METRIC_FERRY_MESSAGING_CONSUMER_UNACKED}, by system, destination and
 * group. A read that fails or takes longer than {@link BACKLOG_READ_TIMEOUT_MS}
 * skips that collection. Without a meter provider it does nothing. Returns
 * the function that stops reporting (call it when the subscription stops).
 */
export function observeConsumerBacklog(source: BacklogSource): () => void {
  const g = gauges();
  if (g === undefined) return () => {};
  const attributes = {
    [ATTR_MESSAGING_SYSTEM]: source.system === "amqp" ? MESSAGING_SYSTEM_VALUE_RABBITMQ : source.system,
    [ATTR_MESSAGING_DESTINATION_NAME]: source.destination,
    [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: source.group,
  };
  // One broker read per collection, shared by both gauges.
  let reading: Promise<ConsumerBacklog | undefined> | undefined;
  const read = () => (reading ??= withTimeout(source.read()).finally(() => setTimeout(() => (reading = undefined), 0)));
  const observe = (field: keyof ConsumerBacklog) => async (result: ObservableResult) => {
    const value = (await read())?.[field];
    if (value !== undefined) result.observe(value, attributes);
  };
  const pending = observe("pending");
  const unacked = observe("unacked");
  g.pending.addCallback(pending);
  g.unacked.addCallback(unacked);
  return () => {
    g.pending.removeCallback(pending);
    g.unacked.removeCallback(unacked);
  };
}

function withTimeout(p: Promise<ConsumerBacklog>): Promise<ConsumerBacklog | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), BACKLOG_READ_TIMEOUT_MS)));
  return Promise.race([p.catch(() => undefined), expired]).finally(() => clearTimeout(timer));
}
