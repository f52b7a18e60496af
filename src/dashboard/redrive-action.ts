/**
 * The Messaging view's action: `POST /api/messaging/redrive` moves the dead
 * letters one consumer group gave up on back to their topic, for that group
 * to handle again (`Broker.redrive`, the same re-drive reader as
 * `ferry dlq redrive`). Needs the dashboard started with a broker client.
 *
 * Request: `Content-Type: application/json`,
 * `{ "topic": "shop.orders.placed", "group": "notification", "deadLetterTopic"?: "…" }`
 * (the dead-letter topic defaults to the topic's default,
 * `dead-letter.<topic>`). Answer: `{ "moved": n, "skipped": n }`.
 *
 * Errors: 400 for a bad body, 403 for a cross-origin request (an `Origin`
 * that is not the dashboard's own — with the JSON media type this keeps
 * other web pages from triggering it), 415 for another media type, 501 when
 * no broker was given, and the broker's own failure otherwise (502).
 */
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Broker } from "../messaging/broker.js";
import { defineTopic } from "../messaging/topic.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { HttpError, sendJson } from "./http-replies.js";
import { readActionBody } from "./action-guard.js";

/** The action's path. */
export const REDRIVE_PATH = "/api/messaging/redrive";

/** Largest request body, in bytes. */
const MAX_BODY_BYTES = 16 * 1024;

/** Handles `POST /api/messaging/redrive`; throws {@link HttpError} for the answers above. */
export async function redriveAction(req: IncomingMessage, res: ServerResponse, broker: Broker | undefined): Promise<void> {
  const { topic, group, deadLetterTopic } = parseRequest(await readActionBody(req, REDRIVE_PATH, MAX_BODY_BYTES));
  if (broker === undefined) throw new HttpError(501, "this dashboard has no broker client: start it with startDashboard({ broker }) to re-drive dead letters, or use ferry dlq redrive");
  try {
    const target = defineTopic(topic, EmptySchema, deadLetterTopic === undefined ? {} : { deadLetterTopic });
    const result = await broker.redrive(target, { group });
    sendJson(res, { moved: result.moved, skipped: result.skipped });
  } catch (err) {
    const e = FerryError.from(err);
    throw new HttpError(e.code === Code.INVALID_ARGUMENT ? 400 : 502, `re-drive failed: ${e.rawMessage}`);
  }
}

function parseRequest(b: Record<string, unknown>): { topic: string; group: string; deadLetterTopic: string | undefined } {
  const text = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 256;
  if (!text(b.topic)) throw new HttpError(400, "topic must be a topic name (1–256 characters)");
  if (!text(b.group)) throw new HttpError(400, "group must be the consumer group whose dead letters to re-drive (1–256 characters)");
  if (b.deadLetterTopic !== undefined && !text(b.deadLetterTopic)) throw new HttpError(400, "deadLetterTopic must be a topic name (1–256 characters)");
  return { topic: b.topic, group: b.group, deadLetterTopic: b.deadLetterTopic as string | undefined };
}
