import { context, propagation, type Context } from "@opentelemetry/api";
import { currentCallContext } from "../rpc/call-context.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/**
 * Header names Ferry writes on every message. The `ferry-` prefix is reserved:
 * publishing a header with it raises INVALID_ARGUMENT.
 */
export const FerryHeader = Object.freeze({
  /** The message id (de-duplication key; see `PublishOptions.messageId`). */
  messageId: "ferry-message-id",
  /** Publish time, ms since the Unix epoch, by the publisher's clock. */
  publishTime: "ferry-publish-time",
  /** The ordering key, when given. */
  orderingKey: "ferry-ordering-key",
  /** The protobuf type name of the payload, e.g. `shop.v1.OrderPlaced`. */
  type: "ferry-type",
  /** The publisher's remaining deadline when it published, in ms (from its current Ferry call). */
  deadlineMs: "ferry-deadline-ms",
  /** Why the message was dead-lettered: the handler's error message or the decode error. */
  deadLetterReason: "ferry-dead-letter-reason",
  /** The status code name of that failure (`INTERNAL`, `INVALID_ARGUMENT`, …). */
  deadLetterCode: "ferry-dead-letter-code",
  /** The topic the message was dead-lettered from. */
  deadLetterTopic: "ferry-dead-letter-topic",
  /** The consumer group that gave up on the message. */
  deadLetterGroup: "ferry-dead-letter-group",
  /** How many deliveries were attempted. */
  deadLetterAttempts: "ferry-dead-letter-attempts",
  /** When it was dead-lettered, ms since the epoch. */
  deadLetterTime: "ferry-dead-letter-time",
  /** On a re-driven message: only this consumer group handles it; other groups ack it unseen. */
  redriveGroup: "ferry-redrive-group",
  /** W3C Trace Context (https://www.w3.org/TR/trace-context/). */
  traceparent: "traceparent",
  /** W3C Trace Context vendor state. */
  tracestate: "tracestate",
});

/** Largest total size of user headers (keys plus values), in bytes. */
export const maxUserHeaderBytes = 16 * 1024;

const keyPattern = /^[0-9a-z][0-9a-z_.-]*$/;

/**
 * Checks user headers: keys are lower-case `[0-9a-z_.-]` (valid as NATS,
 * AMQP and Redis field names), values printable ASCII, `ferry-` is reserved,
 * at most {@link maxUserHeaderBytes} in all. Raises INVALID_ARGUMENT.
 */
export function checkUserHeaders(headers: Readonly<Record<string, string>>): void {
  let size = 0;
  for (const [key, value] of Object.entries(headers)) {
    if (!keyPattern.test(key)) throw invalid(`header key "${key}" is invalid: use lower-case letters, digits, "_", "." and "-"`);
    if (key.startsWith("ferry-")) throw invalid(`header key "${key}" uses the reserved prefix "ferry-"`);
    if (typeof value !== "string") throw invalid(`header "${key}" needs a string value`);
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x20 || c > 0x7e) throw invalid(`header "${key}" has a character outside printable ASCII at index ${i}`);
    }
    size += key.length + value.length;
  }
  if (size > maxUserHeaderBytes) throw invalid(`headers take ${size} bytes, more than the limit of ${maxUserHeaderBytes}`);
}

/**
 * Adds the context of the code that publishes: the W3C trace context of the
 * active OpenTelemetry context (through the globally registered propagator),
 * else the `traceparent`/`tracestate` the current Ferry call received; and the
 * current Ferry call's remaining deadline as `ferry-deadline-ms`.
 */
export function injectContextHeaders(headers: Record<string, string>): void {
  propagation.inject(context.active(), headers);
  const call = currentCallContext();
  if (call === undefined) return;
  if (headers[FerryHeader.traceparent] === undefined) {
    const traceparent = call.requestMetadata.getText(FerryHeader.traceparent);
    if (traceparent !== undefined) {
      headers[FerryHeader.traceparent] = traceparent;
      const tracestate = call.requestMetadata.getText(FerryHeader.tracestate);
      if (tracestate !== undefined) headers[FerryHeader.tracestate] = tracestate;
    }
  }
  const remaining = call.timeRemainingMs();
  if (remaining !== undefined) headers[FerryHeader.deadlineMs] = String(remaining);
}

/** The OpenTelemetry context carried by a message's headers (for the handler to run in). */
export function extractTraceContext(headers: Readonly<Record<string, string>>): Context {
  return propagation.extract(context.active(), headers);
}

/** Removes the dead-letter headers, for re-drive. */
export function withoutDeadLetterHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!k.startsWith("ferry-dead-letter-") && k !== FerryHeader.redriveGroup) out[k] = v;
  return out;
}

function invalid(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, message);
}
