/**
 * The Messaging view's broker actions (they need the dashboard started with
 * a broker client, else 501):
 *
 * | route | body / query | answer |
 * |---|---|---|
 * | `POST /api/messaging/redrive` | `{ topic, group, messageId?, deadLetterTopic? }` | `{ moved, skipped }`: every dead letter the group gave up on (`Broker.redrive`), or only the one with that message id or broker sequence (404 when there is none) |
 * | `GET /api/messaging/dead-letters` | `?topic=&group=&deadLetterTopic=` | `{ letters: DeadLetterView[], full }`: headers, reason and payload preview (JSON via the message type the `ferry-type` header names) |
 * | `POST /api/messaging/replay` | `{ topic, group, fromMs, maxMessages? }` | `{ replayed, truncated }`: the topic's messages since `fromMs` handled again by that group; 501 where the broker cannot replay from a time |
 *
 * The POSTs are write actions: same origin and JSON only (action-guard.ts).
 * Errors: 400 for a bad body or query, 403, 404, 415, 501, and 502 when
 * the broker fails.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import type { Broker } from "../messaging/broker.js";
import { defineTopic } from "../messaging/topic.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { readActionBody } from "./action-guard.js";
import { HttpError, sendJson } from "./http-replies.js";
import { DEFAULT_REPLAY_MAX_MESSAGES, MAX_REPLAY_MAX_MESSAGES, type MessagingTools } from "./messaging-tools.js";

/** The actions' paths. */
export const REDRIVE_PATH = "/api/messaging/redrive";
export const DEAD_LETTERS_PATH = "/api/messaging/dead-letters";
export const REPLAY_PATH = "/api/messaging/replay";
export const MESSAGING_ACTION_PATHS: readonly string[] = [REDRIVE_PATH, DEAD_LETTERS_PATH, REPLAY_PATH];

/** Largest request body, in bytes. */
const MAX_BODY_BYTES = 16 * 1024;

/** The broker and its tools, when the dashboard has one. */
export interface MessagingBroker {
  readonly broker: Broker;
  readonly tools: MessagingTools;
}

/** Handles one of {@link MESSAGING_ACTION_PATHS}; throws {@link HttpError} for the answers above. */
export async function messagingAction(req: IncomingMessage, res: ServerResponse, url: URL, target: MessagingBroker | undefined): Promise<void> {
  const path = url.pathname;
  if (path === DEAD_LETTERS_PATH) {
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, `${path} accepts GET only`, { allow: "GET, HEAD" });
    const q = url.searchParams;
    const topic = name(q.get("topic"), "topic");
    const group = name(q.get("group"), "group");
    const deadLetterTopic = optionalName(q.get("deadLetterTopic") ?? undefined, "deadLetterTopic");
    return sendJson(res, await brokerCall(() => need(target).tools.deadLetters(topic, group, deadLetterTopic)));
  }
  const body = await readActionBody(req, path, MAX_BODY_BYTES);
  const topic = name(body.topic, "topic");
  const group = name(body.group, "group");
  if (path === REPLAY_PATH) {
    const fromMs = body.fromMs;
    if (typeof fromMs !== "number" || !Number.isFinite(fromMs) || fromMs < 0) throw new HttpError(400, "fromMs must be the time to replay from, in ms since the epoch");
    const max = body.maxMessages ?? DEFAULT_REPLAY_MAX_MESSAGES;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > MAX_REPLAY_MAX_MESSAGES) throw new HttpError(400, `maxMessages must be an integer from 1 to ${MAX_REPLAY_MAX_MESSAGES}`);
    return sendJson(res, await brokerCall(() => need(target).tools.replay(topic, group, fromMs, max)));
  }
  const deadLetterTopic = optionalName(body.deadLetterTopic, "deadLetterTopic");
  const messageId = optionalName(body.messageId, "messageId");
  const broker = need(target);
  if (messageId !== undefined) {
    const one = await brokerCall(() => broker.tools.redriveOne(topic, group, messageId, deadLetterTopic));
    return sendJson(res, { moved: one.moved, skipped: 0, messageId: one.messageId });
  }
  const result = await brokerCall(() => broker.broker.redrive(defineTopic(topic, EmptySchema, deadLetterTopic === undefined ? {} : { deadLetterTopic }), { group }));
  sendJson(res, { moved: result.moved, skipped: result.skipped });
}

function need(target: MessagingBroker | undefined): MessagingBroker {
  if (target === undefined) throw new HttpError(501, "this dashboard has no broker client: start it with startDashboard({ broker }) or ferry dashboard --broker URL (or use ferry dlq)");
  return target;
}

/** Runs a broker call, answering its FerryError with the matching HTTP status. */
async function brokerCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    const e = FerryError.from(err);
    const status = e.code === Code.INVALID_ARGUMENT ? 400 : e.code === Code.NOT_FOUND ? 404 : e.code === Code.UNIMPLEMENTED ? 501 : 502;
    throw new HttpError(status, status === 502 ? `the broker failed: ${e.rawMessage}` : e.rawMessage);
  }
}

function name(value: unknown, field: string): string {
  if (typeof value === "string" && value.length > 0 && value.length <= 256) return value;
  throw new HttpError(400, `${field} must be a name of 1–256 characters${field === "group" ? " (the consumer group)" : ""}`);
}

function optionalName(value: unknown, field: string): string | undefined {
  return value === undefined || value === null || value === "" ? undefined : name(value, field);
}
