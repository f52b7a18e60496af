import type { Counter, Histogram, Meter } from "@opentelemetry/api";
import { METRIC_MESSAGING_CLIENT_CONSUMED_MESSAGES, METRIC_MESSAGING_CLIENT_OPERATION_DURATION, METRIC_MESSAGING_CLIENT_SENT_MESSAGES, METRIC_MESSAGING_PROCESS_DURATION } from "@opentelemetry/semantic-conventions/incubating";
import { instrumentsPerMeter } from "./telemetry-providers.js";

/**
 * Messages settled by a consumer, by `ferry.messaging.outcome` (`ack`,
 * `nack`, `dead_letter`): Ferry's name, the conventions define none.
 */
export const METRIC_FERRY_MESSAGING_SETTLED_MESSAGES = "ferry.messaging.settled.messages";
/** Deliveries with an attempt above 1 (the broker or Ferry redelivered them). */
export const METRIC_FERRY_MESSAGING_REDELIVERED_MESSAGES = "ferry.messaging.redelivered.messages";

/** Bucket boundaries of the messaging duration histograms, in seconds (the conventions' advice). */
export const MESSAGING_DURATION_BUCKETS_S = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);

/** The messaging instruments (OpenTelemetry messaging conventions, units as they define them). */
export interface MessagingInstruments {
  /** `messaging.client.sent.messages`: messages published. */
  readonly sent: Counter;
  /** `messaging.client.operation.duration` (s): publish time until the broker confirmed. */
  readonly publishDuration: Histogram;
  /** `messaging.client.consumed.messages`: deliveries handed to a handler. */
  readonly consumed: Counter;
  /** `messaging.process.duration` (s): handler time per delivery. */
  readonly processDuration: Histogram;
  /** {@link METRIC_FERRY_MESSAGING_SETTLED_MESSAGES}. */
  readonly settled: Counter;
  /** {@link METRIC_FERRY_MESSAGING_REDELIVERED_MESSAGES}. */
  readonly redelivered: Counter;
}

function create(meter: Meter): MessagingInstruments {
  const advice = { explicitBucketBoundaries: [...MESSAGING_DURATION_BUCKETS_S] };
  return {
    sent: meter.createCounter(METRIC_MESSAGING_CLIENT_SENT_MESSAGES, { description: "Messages published", unit: "{message}" }),
    publishDuration: meter.createHistogram(METRIC_MESSAGING_CLIENT_OPERATION_DURATION, { description: "Duration of publish operations", unit: "s", advice }),
    consumed: meter.createCounter(METRIC_MESSAGING_CLIENT_CONSUMED_MESSAGES, { description: "Deliveries handed to a handler", unit: "{message}" }),
    processDuration: meter.createHistogram(METRIC_MESSAGING_PROCESS_DURATION, { description: "Duration of message handlers", unit: "s", advice }),
    settled: meter.createCounter(METRIC_FERRY_MESSAGING_SETTLED_MESSAGES, { description: "Messages acked, nacked or dead-lettered", unit: "{message}" }),
    redelivered: meter.createCounter(METRIC_FERRY_MESSAGING_REDELIVERED_MESSAGES, { description: "Deliveries after the first attempt", unit: "{message}" }),
  };
}

/** The messaging instruments of the current meter provider, or `undefined` without one. */
export const messagingInstruments = instrumentsPerMeter(create);
