import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import { ATTR_ERROR_TYPE } from "@opentelemetry/semantic-conventions";
import {
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_BODY_SIZE,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  MESSAGING_SYSTEM_VALUE_RABBITMQ,
} from "@opentelemetry/semantic-conventions/incubating";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { messagingInstruments } from "./messaging-metrics.js";
import { currentTracer } from "./telemetry-providers.js";

/** Ferry's attribute for the delivery attempt of a consumer span (1 on the first delivery). */
export const ATTR_FERRY_MESSAGING_DELIVERY_ATTEMPT = "ferry.messaging.delivery_attempt";
/** Ferry's attribute for how a delivery was settled: `ack`, `nack` or `dead_letter`. */
export const ATTR_FERRY_MESSAGING_OUTCOME = "ferry.messaging.outcome";

/** Where a message goes or comes from. */
export interface MessagingTarget {
  /** The adapter's name (`memory`, `nats`, `amqp`, `redis`); `amqp` is reported as `rabbitmq`. */
  readonly system: string;
  /** The concrete topic (`messaging.destination.name`). */
  readonly destination: string;
}

/** One delivery attempt to a consumer group. */
export interface DeliveryInfo extends MessagingTarget {
  readonly group: string;
  readonly messageId: string;
  /** 1 on the first delivery. */
  readonly attempt: number;
  /** The message headers, carrying the producer's W3C trace context. */
  readonly headers: Readonly<Record<string, string>>;
  /** Payload size in bytes. */
  readonly bodyBytes: number;
}

function baseAttributes(target: MessagingTarget): Attributes {
  return {
    [ATTR_MESSAGING_SYSTEM]: target.system === "amqp" ? MESSAGING_SYSTEM_VALUE_RABBITMQ : target.system,
    [ATTR_MESSAGING_DESTINATION_NAME]: target.destination,
  };
}

/**
 * Runs a publish inside a PRODUCER span `send {topic}` (OpenTelemetry
 * messaging conventions), child of the active context, so the trace
 * context the broker client injects into the message headers is this span's.
 * Sets `messaging.message.id` from the result and counts
 * `messaging.client.sent.messages`. Without an SDK it just runs `publish`.
 */
export function tracePublish<R extends { messageId: string }>(target: MessagingTarget, publish: () => Promise<R>): Promise<R> {
  const tracer = currentTracer();
  const instruments = messagingInstruments();
  if (tracer === undefined && instruments === undefined) return publish();
  const parent = context.active();
  const span = tracer?.startSpan(`send ${target.destination}`, { kind: SpanKind.PRODUCER }, parent);
  if (span?.isRecording() === true) {
    span.setAttributes(baseAttributes(target));
    span.setAttribute(ATTR_MESSAGING_OPERATION_TYPE, MESSAGING_OPERATION_TYPE_VALUE_SEND);
    span.setAttribute(ATTR_MESSAGING_OPERATION_NAME, "send");
  }
  const startMs = performance.now();
  const done = (error: unknown, messageId?: string): void => {
    if (span !== undefined) {
      if (messageId !== undefined) span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, messageId);
      endWithError(span, error);
    }
    if (instruments !== undefined) {
      const attributes = baseAttributes(target);
      if (error !== undefined) attributes[ATTR_ERROR_TYPE] = Code[FerryError.from(error).code];
      instruments.sent.add(1, attributes);
      instruments.publishDuration.record((performance.now() - startMs) / 1000, { ...attributes, [ATTR_MESSAGING_OPERATION_NAME]: "send" });
    }
  };
  const run = span === undefined ? publish : () => context.with(trace.setSpan(parent, span), publish);
  return run().then(
    (result) => {
      done(undefined, result.messageId);
      return result;
    },
    (err: unknown) => {
      done(err);
      throw err;
    },
  );
}

/**
 * Runs one delivery attempt — the handler and its ack, nack or dead-letter —
 * inside a CONSUMER span `process {topic}`: a child of the producer's
 * context carried by the message headers, and linked to it (the
 * conventions' recommendation for push-based consumers). Attributes: system,
 * destination, consumer group, message id, body size and
 * {@link ATTR_FERRY_MESSAGING_DELIVERY_ATTEMPT}. Counts
 * `messaging.client.consumed.messages` and records `messaging.process.duration`.
 * {@link recordDeliveryOutcome} and {@link recordDeliveryError} annotate it.
 */
export function traceDelivery<T>(info: DeliveryInfo, run: () => Promise<T>): Promise<T> {
  const tracer = currentTracer();
  const instruments = messagingInstruments();
  // From the headers only: a delivery must not inherit whatever context the broker client delivered it in.
  const producer = propagation.extract(ROOT_CONTEXT, info.headers);
  if (tracer === undefined && instruments === undefined) return context.with(producer, run);
  const attributes = { ...baseAttributes(info), [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: info.group };
  instruments?.consumed.add(1, attributes);
  if (info.attempt > 1) instruments?.redelivered.add(1, attributes);
  const producerSpan = trace.getSpanContext(producer);
  const span = tracer?.startSpan(`process ${info.destination}`, { kind: SpanKind.CONSUMER, links: producerSpan === undefined ? [] : [{ context: producerSpan }] }, producer);
  if (span?.isRecording() === true) {
    span.setAttributes(attributes);
    span.setAttributes({
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
      [ATTR_MESSAGING_OPERATION_NAME]: "process",
      [ATTR_MESSAGING_MESSAGE_ID]: info.messageId,
      [ATTR_MESSAGING_MESSAGE_BODY_SIZE]: info.bodyBytes,
      [ATTR_FERRY_MESSAGING_DELIVERY_ATTEMPT]: info.attempt,
    });
  }
  const startMs = performance.now();
  const finish = (error: unknown): void => {
    instruments?.processDuration.record((performance.now() - startMs) / 1000, { ...attributes, [ATTR_MESSAGING_OPERATION_NAME]: "process" });
    if (span !== undefined) endWithError(span, error);
  };
  return context.with(span === undefined ? producer : trace.setSpan(producer, span), run).then(
    (result) => {
      finish(undefined);
      return result;
    },
    (err: unknown) => {
      finish(err);
      throw err;
    },
  );
}

/**
 * Marks the active consumer span as failed by the handler's `error` (status
 * ERROR, `error.type`, an `exception` event) — the delivery will be retried
 * or dead-lettered, which {@link recordDeliveryOutcome} adds.
 */
export function recordDeliveryError(error: unknown): void {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  const e = FerryError.from(error);
  span.setAttribute(ATTR_ERROR_TYPE, Code[e.code]);
  span.recordException({ name: `FerryError ${Code[e.code]}`, message: e.rawMessage });
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.rawMessage });
}

/** How a delivery attempt was settled, with what the span event carries. */
export interface DeliveryOutcome extends MessagingTarget {
  readonly group: string;
  readonly outcome: "ack" | "nack" | "dead_letter";
  /** For `nack`: the delay before the redelivery, in ms. */
  readonly delayMs?: number;
  /** For `dead_letter`: the dead-letter topic. */
  readonly deadLetterTopic?: string;
}

/**
 * Counts a settled delivery in {@link METRIC_FERRY_MESSAGING_SETTLED_MESSAGES}
 * and adds a `ferry.message.{ack|nack|dead_letter}` event (with the
 * redelivery delay or dead-letter topic) to the active consumer span.
 */
export function recordDeliveryOutcome(o: DeliveryOutcome): void {
  const instruments = messagingInstruments();
  if (instruments !== undefined) {
    instruments.settled.add(1, { ...baseAttributes(o), [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: o.group, [ATTR_FERRY_MESSAGING_OUTCOME]: o.outcome });
  }
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  const event: Attributes = {};
  if (o.delayMs !== undefined) event["ferry.messaging.redelivery_delay_ms"] = o.delayMs;
  if (o.deadLetterTopic !== undefined) event["ferry.messaging.dead_letter_topic"] = o.deadLetterTopic;
  span.addEvent(`ferry.message.${o.outcome}`, event);
}

function endWithError(span: Span, error: unknown): void {
  if (error !== undefined && span.isRecording()) {
    const e = FerryError.from(error);
    span.setAttribute(ATTR_ERROR_TYPE, Code[e.code]);
    span.setStatus({ code: SpanStatusCode.ERROR, message: e.rawMessage });
  }
  span.end();
}
