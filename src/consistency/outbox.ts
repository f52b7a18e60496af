import { randomUUID } from "node:crypto";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { encodeBinary, toMessage } from "../contract/codec.js";
import { checkUserHeaders, FerryHeader, injectContextHeaders } from "../messaging/headers.js";
import { checkTopicName, type Topic } from "../messaging/topic.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { checkIdentifier, qualified, type SqlExecutor, type SqlTransaction } from "./sql-store.js";

/** Options of {@link Outbox.publish}. */
export interface OutboxPublishOptions {
  /**
   * Events with the same ordering key are published in the order their rows
   * were inserted (the row's `seq`), and a failed one holds back the ones
   * after it. Usually the aggregate's id (Debezium's `aggregateid`). 1–256
   * printable ASCII characters.
   */
  orderingKey?: string;
  /** Custom headers, as for `Broker.publish` (lower-case keys, `ferry-` reserved). */
  headers?: Readonly<Record<string, string>>;
  /** The message id, a UUID; defaults to a random one. The broker de-duplicates by it. */
  messageId?: string;
}

/** Options of {@link createOutbox}. */
export interface OutboxOptions {
  /** Schema of the `ferry_outbox` table (the store's `schema`). Default `"public"`. */
  schema?: string;
  /** Largest encoded message accepted, in bytes. Default 1 MiB (NATS's default `max_payload`). */
  maxPayloadBytes?: number;
}

/**
 * The transactional outbox (Chris Richardson, "Pattern: Transactional
 * outbox"): events are rows inserted in the caller's transaction, so they
 * commit or roll back with the state change they describe. An
 * {@link OutboxRelay} publishes committed rows to the broker.
 */
export interface Outbox {
  /**
   * Inserts `message` for `topic` in transaction `tx`. Resolves with the
   * message id (the row's id, a UUID), which is also the id the broker sees.
   * The active trace context (OpenTelemetry, else the current Ferry call's
   * `traceparent`) is stored with the row, so the trace continues through the relay.
   *
   * @throws FerryError INVALID_ARGUMENT for a wildcard or malformed topic, a
   *   message that does not fit the topic's schema, bad headers, ordering key
   *   or message id; RESOURCE_EXHAUSTED for a message larger than `maxPayloadBytes`.
   */
  publish<Desc extends DescMessage>(
    tx: SqlTransaction,
    topic: Topic<Desc>,
    message: MessageShape<Desc> | MessageInitShape<Desc>,
    options?: OutboxPublishOptions,
  ): Promise<string>;
  /** Rows not yet published (committed and visible to `db`). */
  pendingCount(db: SqlExecutor): Promise<number>;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Creates the {@link Outbox} writing to `<schema>.ferry_outbox`. Raises INVALID_ARGUMENT for bad options. */
export function createOutbox(options: OutboxOptions = {}): Outbox {
  const table = qualified(checkIdentifier("schema", options.schema ?? "public"), "ferry_outbox");
  const maxPayloadBytes = options.maxPayloadBytes ?? 1024 * 1024;
  if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < 1) {
    throw new FerryError(Code.INVALID_ARGUMENT, `maxPayloadBytes must be an integer ≥ 1, got ${maxPayloadBytes}`);
  }
  const insert = `INSERT INTO ${table} (id, topic, ordering_key, type, payload, headers) VALUES ($1, $2, $3, $4, $5, $6)`;
  return {
    async publish(tx, topic, message, publishOptions = {}) {
      const row = outboxRow(topic, message, publishOptions, maxPayloadBytes);
      if (tx === null || typeof tx !== "object" || typeof tx.query !== "function") {
        throw new FerryError(Code.INVALID_ARGUMENT, "outbox.publish needs the transaction (tx) of store.transaction");
      }
      await tx.query(insert, [row.id, topic.name, row.orderingKey ?? null, topic.schema.typeName, row.payload, JSON.stringify(row.headers)]);
      return row.id;
    },
    async pendingCount(db) {
      const rows = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${table} WHERE sent_at IS NULL`);
      return Number(rows[0]?.n ?? 0);
    },
  };
}

interface OutboxRow {
  id: string;
  orderingKey: string | undefined;
  payload: Buffer;
  headers: Record<string, string>;
}

function outboxRow<Desc extends DescMessage>(
  topic: Topic<Desc>,
  message: MessageShape<Desc> | MessageInitShape<Desc>,
  options: OutboxPublishOptions,
  maxPayloadBytes: number,
): OutboxRow {
  if (topic === null || typeof topic !== "object" || topic.schema === undefined) {
    throw new FerryError(Code.INVALID_ARGUMENT, "outbox.publish needs a topic made with defineTopic");
  }
  checkTopicName(topic.name, false);
  const id = options.messageId ?? randomUUID();
  if (typeof id !== "string" || !uuidPattern.test(id)) throw new FerryError(Code.INVALID_ARGUMENT, `outbox messageId must be a UUID, got "${String(id)}"`);
  if (options.orderingKey !== undefined) checkOrderingKey(options.orderingKey);
  let payload: Uint8Array;
  try {
    payload = encodeBinary(topic.schema, toMessage(topic.schema, message));
  } catch (err) {
    throw FerryError.from(err, Code.INVALID_ARGUMENT);
  }
  if (payload.byteLength > maxPayloadBytes) {
    throw new FerryError(Code.RESOURCE_EXHAUSTED, `message for "${topic.name}" is ${payload.byteLength} bytes, more than the outbox limit of ${maxPayloadBytes}`);
  }
  const headers: Record<string, string> = {};
  if (options.headers !== undefined) {
    checkUserHeaders(options.headers);
    Object.assign(headers, options.headers);
  }
  injectContextHeaders(headers);
  delete headers[FerryHeader.deadlineMs]; // a deadline is meaningless by the time the relay publishes
  return { id: id.toLowerCase(), orderingKey: options.orderingKey, payload: Buffer.from(payload), headers };
}

function checkOrderingKey(key: string): void {
  const ok = typeof key === "string" && key.length > 0 && key.length <= 256 && /^[\x21-\x7e]+$/.test(key);
  if (!ok) throw new FerryError(Code.INVALID_ARGUMENT, "orderingKey must be 1–256 printable ASCII characters without spaces");
}
