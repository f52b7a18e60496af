/**
 * Ferry headers ⇄ AMQP 0-9-1 header tables. Ferry stores every header of a
 * message as a string in the message's `headers` property; RabbitMQ adds its
 * own `x-` headers, which are read for the delivery count and never handed on.
 * @packageDocumentation
 */

/** Headers RabbitMQ adds on its own, never handed to Ferry as message headers. */
const brokerHeaders = new Set([
  "x-delivery-count",
  "x-death",
  "x-first-death-exchange",
  "x-first-death-queue",
  "x-first-death-reason",
  "x-last-death-exchange",
  "x-last-death-queue",
  "x-last-death-reason",
  "x-stream-offset",
]);

/** The adapter's own failure counter on classic queues (stripped before delivery). */
export const classicAttemptHeader = "ferry-amqp-attempt";

/** The original topic of a message requeued by the adapter through the default exchange (stripped before delivery). */
export const classicTopicHeader = "ferry-amqp-topic";

/** Ferry headers of a delivered message: string values only, broker-added `x-` headers and the adapter's counter removed. */
export function ferryHeadersOf(table: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (table === undefined) return out;
  for (const [k, v] of Object.entries(table)) {
    if (brokerHeaders.has(k) || k === classicAttemptHeader || k === classicTopicHeader) continue;
    if (typeof v === "string") out[k] = v;
    else if (Buffer.isBuffer(v)) out[k] = v.toString();
  }
  return out;
}

/**
 * The delivery attempt (1-based) of a message: quorum queues count every
 * return in `x-delivery-count` (absent on the first delivery); classic queues
 * only say `redelivered`, so the adapter's own failure counter is added.
 */
export function deliveryAttemptOf(table: Record<string, unknown> | undefined, redelivered: boolean): number {
  const count = table?.["x-delivery-count"];
  if (typeof count === "number" || typeof count === "bigint") return Number(count) + 1;
  const failures = Number(table?.[classicAttemptHeader] ?? 0) || 0;
  return failures + (redelivered ? 2 : 1);
}
