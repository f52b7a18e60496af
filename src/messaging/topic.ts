import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** Options of {@link defineTopic}. */
export interface TopicOptions {
  /**
   * Name of the topic that receives this topic's messages after they exhausted
   * their deliveries or could not be decoded. Defaults to
   * `"dead-letter." + name` (a prefix, not a suffix, so that a wildcard
   * subscription such as `orders.>` never receives dead letters of `orders.*`).
   */
  deadLetterTopic?: string;
  /** A human-readable description, for docs and tools (AsyncAPI export, CLI). */
  description?: string;
}

/**
 * A topic: a name and the protobuf message type every message on it has.
 *
 * Names are dot-separated tokens of letters, digits, `_` and `-`
 * (`shop.order.placed`), the common ground of NATS subjects, AMQP routing keys
 * and Redis keys. A topic used only to subscribe may contain wildcards:
 * `*` matches exactly one token, `>` (last token only) matches one or more
 * (NATS subject semantics; the AMQP adapter maps `>` to `#`). Publishing to a
 * wildcard topic raises INVALID_ARGUMENT.
 */
export interface Topic<Desc extends DescMessage = DescMessage> {
  /** The topic's name, e.g. `"shop.order.placed"`. */
  readonly name: string;
  /** The message type of every message on the topic. */
  readonly schema: Desc;
  /** Name of the dead-letter topic (see {@link TopicOptions.deadLetterTopic}). */
  readonly deadLetterTopic: string;
  /** True when the name contains `*` or `>` (subscribe only). */
  readonly wildcard: boolean;
  /** See {@link TopicOptions.description}. */
  readonly description: string | undefined;
}

/** The message type carried by a topic. */
export type TopicMessage<T extends Topic> = T extends Topic<infer D> ? MessageShape<D> : never;

const tokenPattern = /^[A-Za-z0-9_-]+$/;

/** Longest topic name accepted, in characters (RabbitMQ routing keys are limited to 255 bytes). */
export const maxTopicNameLength = 200;

/**
 * Checks a topic name; `allowWildcards` admits `*` tokens and a final `>`.
 * Raises INVALID_ARGUMENT saying what is wrong.
 */
export function checkTopicName(name: string, allowWildcards: boolean): void {
  if (typeof name !== "string" || name.length === 0) {
    throw new FerryError(Code.INVALID_ARGUMENT, "topic name must be a non-empty string");
  }
  if (name.length > maxTopicNameLength) {
    throw new FerryError(Code.INVALID_ARGUMENT, `topic name "${name.slice(0, 40)}…" is longer than ${maxTopicNameLength} characters`);
  }
  const tokens = name.split(".");
  tokens.forEach((token, i) => {
    if (tokenPattern.test(token)) return;
    const wildcardOk = allowWildcards && (token === "*" || (token === ">" && i === tokens.length - 1));
    if (!wildcardOk) {
      throw new FerryError(
        Code.INVALID_ARGUMENT,
        `topic name "${name}" has an invalid token "${token}": use dot-separated tokens of letters, digits, "_" and "-"` +
          (allowWildcards ? ' ("*" for one token, ">" as the last token for the rest)' : ""),
      );
    }
  });
}

/** True when `name` contains a wildcard token. */
export function isWildcardName(name: string): boolean {
  return name.split(".").some((t) => t === "*" || t === ">");
}

/**
 * Defines a topic: `defineTopic("shop.order.placed", OrderPlacedSchema)`.
 * Raises INVALID_ARGUMENT for a malformed name or dead-letter topic name.
 */
export function defineTopic<Desc extends DescMessage>(name: string, schema: Desc, options: TopicOptions = {}): Topic<Desc> {
  checkTopicName(name, true);
  if (schema === undefined || (schema as DescMessage).kind !== "message") {
    throw new FerryError(Code.INVALID_ARGUMENT, `topic "${name}" needs a protobuf message descriptor (DescMessage)`);
  }
  const wildcard = isWildcardName(name);
  const deadLetterTopic = options.deadLetterTopic ?? `dead-letter.${name}`;
  // A wildcard topic's default dead-letter name is a pattern: each message goes to "dead-letter." + its own topic.
  checkTopicName(deadLetterTopic, options.deadLetterTopic === undefined && wildcard);
  return Object.freeze({ name, schema, deadLetterTopic, wildcard, description: options.description });
}

/**
 * The dead-letter topic for a message that arrived on the concrete topic
 * `actualName` through a subscription to `topic` (which may be a wildcard).
 */
export function deadLetterTopicFor(topic: Topic, actualName: string): string {
  return topic.wildcard && topic.deadLetterTopic === `dead-letter.${topic.name}` ? `dead-letter.${actualName}` : topic.deadLetterTopic;
}

/**
 * Whether the concrete topic name `name` matches `pattern` (which may contain
 * `*` and a final `>`), with NATS subject semantics.
 */
export function topicMatches(pattern: string, name: string): boolean {
  const p = pattern.split(".");
  const n = name.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return n.length > i;
    if (i >= n.length) return false;
    if (p[i] !== "*" && p[i] !== n[i]) return false;
  }
  return p.length === n.length;
}
