import { randomUUID } from "node:crypto";
import type { BrokerAdapter } from "../messaging/adapter.js";
import { checkUserHeaders, FerryHeader } from "../messaging/headers.js";
import { checkTopicName } from "../messaging/topic.js";
import { FerryError } from "../rpc/ferry-error.js";
import { CliUsageError } from "./cli-error.js";

/** Longest message id or ordering key, in characters (as `Broker.publish` accepts). */
const MAX_ID_LENGTH = 256;

/** One message for {@link publishRaw}. */
export interface RawPublish {
  /** Concrete topic name (no wildcard). */
  readonly topic: string;
  /** The bytes to store: encoded protobuf, or what the user gave verbatim. */
  readonly payload: Uint8Array;
  /** The payload's message type, written as `ferry-type`; `undefined` for untyped bytes. */
  readonly typeName: string | undefined;
  /** User headers (checked by {@link parseHeaderFlags}). */
  readonly headers: Readonly<Record<string, string>>;
  /** Ordering key (`--key`), or `undefined`. */
  readonly orderingKey: string | undefined;
  /** Message id (`--id`); defaults to a random UUID. */
  readonly messageId: string | undefined;
}

/** What `ferry topics publish` prints (one JSON line) once the broker stored the message. */
export interface RawPublishResult {
  readonly topic: string;
  readonly messageId: string;
  /** The broker's position of the message; `""` where it has none (RabbitMQ). */
  readonly sequence: string;
  /** True when the broker already had this message id (de-duplication: NATS, memory) and stored nothing. */
  readonly duplicate: boolean;
}

/**
 * Turns repeated `-H 'key: value'` flags into headers. Keys are lower-cased
 * (as HTTP tools do) and must be `[0-9a-z_.-]`, values printable ASCII, and
 * the `ferry-` prefix is reserved (see `PublishOptions.headers`).
 *
 * @throws CliUsageError (exit 2) for a flag without `:` or a header the broker API refuses.
 */
export function parseHeaderFlags(flags: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const flag of flags) {
    const colon = flag.indexOf(":");
    if (colon <= 0) throw new CliUsageError(`bad header "${flag}": expected 'key: value'`);
    headers[flag.slice(0, colon).trim().toLowerCase()] = flag.slice(colon + 1).trim();
  }
  try {
    checkUserHeaders(headers);
  } catch (err) {
    throw new CliUsageError(`bad header: ${FerryError.from(err).rawMessage}`);
  }
  return headers;
}

/**
 * Checks a topic name typed on the command line; `wildcards` admits `*` and
 * a final `>` (for tail).
 *
 * @throws CliUsageError (exit 2) naming what is wrong with it.
 */
export function checkTopicArgument(topic: string, wildcards: boolean): string {
  try {
    checkTopicName(topic, wildcards);
  } catch (err) {
    throw new CliUsageError(FerryError.from(err).rawMessage);
  }
  return topic;
}

/**
 * Checks `--id` and `--key` values: 1–256 printable ASCII characters without spaces.
 *
 * @throws CliUsageError (exit 2) otherwise.
 */
export function checkIdFlag(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > MAX_ID_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw new CliUsageError(`${flag} must be 1–${MAX_ID_LENGTH} printable ASCII characters without spaces`);
  }
  return value;
}

/**
 * Publishes bytes through the adapter with the headers `Broker.publish`
 * writes (`ferry-message-id`, `ferry-publish-time`, `ferry-type` when the
 * type is known, `ferry-ordering-key`), the message id as the de-duplication
 * key. Resolves once the broker confirmed storage.
 *
 * @throws FerryError UNAVAILABLE (exit 14) when the broker cannot be reached,
 *   RESOURCE_EXHAUSTED (exit 8) for a message larger than the broker accepts.
 */
export async function publishRaw(adapter: BrokerAdapter, message: RawPublish): Promise<RawPublishResult> {
  const messageId = message.messageId ?? randomUUID();
  const headers: Record<string, string> = { ...message.headers };
  headers[FerryHeader.messageId] = messageId;
  headers[FerryHeader.publishTime] = String(Date.now());
  if (message.typeName !== undefined) headers[FerryHeader.type] = message.typeName;
  if (message.orderingKey !== undefined) headers[FerryHeader.orderingKey] = message.orderingKey;
  const receipt = await adapter.publish({
    topic: message.topic,
    payload: message.payload,
    headers,
    messageId,
    dedupId: messageId,
    orderingKey: message.orderingKey,
  });
  return { topic: message.topic, messageId, sequence: receipt.sequence, duplicate: receipt.duplicate };
}
