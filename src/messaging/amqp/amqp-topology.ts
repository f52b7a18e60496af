import { createHash } from "node:crypto";

/**
 * Queue types the AMQP adapter can declare for a consumer group:
 * - `quorum`: replicated, durable, counts deliveries (`x-delivery-count`);
 *   RabbitMQ 3.8 and later. The default where the server supports it.
 * - `classic`: RabbitMQ's original queue; only a `redelivered` flag, so the
 *   adapter counts handler failures itself (see `AmqpConsumer`).
 * - `auto`: `quorum` on RabbitMQ ≥ 3.8, else `classic`.
 */
export type AmqpQueueType = "quorum" | "classic" | "auto";

/** Longest queue name RabbitMQ accepts, in bytes (AMQP 0-9-1 short string). */
const maxQueueNameBytes = 255;

/**
 * The binding key of a Ferry topic pattern: Ferry's (NATS') `*` matches one
 * token as AMQP's `*` does; Ferry's final `>` (one or more tokens) becomes
 * `#` (zero or more), and the consumer drops the zero-token matches.
 */
export function bindingKeyFor(topic: string): string {
  return topic
    .split(".")
    .map((t) => (t === ">" ? "#" : t))
    .join(".");
}

/**
 * The durable queue of a consumer group on a topic: `<exchange>.<group>.<topic>`
 * (wildcards kept, as `>`), shortened with a SHA-256 suffix when longer than
 * RabbitMQ's 255 bytes. Each (topic, group) pair has its own queue; members
 * of a group consume from it and compete.
 */
export function queueNameFor(exchange: string, group: string, topic: string): string {
  const name = `${exchange}.${group}.${topic}`;
  if (Buffer.byteLength(name) <= maxQueueNameBytes) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 16);
  return `${name.slice(0, maxQueueNameBytes - 18)}.~${hash}`;
}

/** Whether RabbitMQ `version` (e.g. `"3.10.8"`) is at least `major.minor`. */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (m === null) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

/** The queue type to declare for `requested` on a server of `version`. */
export function resolveQueueType(requested: AmqpQueueType, version: string): "quorum" | "classic" {
  if (requested !== "auto") return requested;
  return versionAtLeast(version, 3, 8) ? "quorum" : "classic";
}

/**
 * Arguments of a consumer group's queue. Quorum queues on RabbitMQ 4 have a
 * default delivery limit of 20 after which the broker drops the message;
 * Ferry's core enforces `maxDeliveries` and dead-letters with a reason, so
 * the broker's limit is switched off there (`x-delivery-limit: -1`; 3.x has
 * no default limit and rejects -1).
 */
export function queueArguments(type: "quorum" | "classic", version: string): Record<string, unknown> {
  if (type === "classic") return {};
  const args: Record<string, unknown> = { "x-queue-type": "quorum" };
  if (versionAtLeast(version, 4, 0)) args["x-delivery-limit"] = -1;
  return args;
}
