import type { ServerResponse } from "node:http";
import type { JsonValue, Message } from "@bufbuild/protobuf";
import { FerryError } from "../rpc/ferry-error.js";
import { waitForDrain } from "../util/wait-for-drain.js";

/** How a server-streaming method's messages go out over HTTP/1.1. */
export type HttpStreamFormat = "ndjson" | "sse";

/** `"sse"` when the request's `Accept` names `text/event-stream` (as `EventSource` sends), else `"ndjson"`. */
export function httpStreamFormat(accept: string | undefined): HttpStreamFormat {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept) ? "sse" : "ndjson";
}

/** Options of {@link sendHttpStream}. */
export interface HttpStreamOptions {
  readonly format: HttpStreamFormat;
  /** A response message as JSON (protobuf's JSON mapping; `response_body` applied). */
  readonly toJson: (message: Message) => JsonValue;
  /** An error as the gateway's error JSON. */
  readonly errorJson: (error: FerryError) => unknown;
  /** Interval of SSE comment lines that keep idle proxies from closing the stream, in ms. */
  readonly heartbeatMs: number;
  /** Extra response headers (CORS). */
  readonly headers?: Record<string, string>;
}

/**
 * Streams a server-streaming method's messages as the HTTP response body,
 * with backpressure (waits for `drain`):
 *
 * - `ndjson` (`application/x-ndjson`): one JSON object per line,
 *   `{"result": message}`, and a last `{"error": {…}}` line when the call
 *   fails after the response started (the grpc-gateway convention);
 * - `sse` (`text/event-stream`, HTML "Server-sent events"): each message as
 *   `data: {…}`; a failure as `event: error`; the end as `event: end`, so an
 *   `EventSource` can close instead of reconnecting; a `:` comment line every
 *   `heartbeatMs`.
 *
 * Resolves when the stream ended or the client went away (the iterator is
 * then returned, which cancels the call).
 */
export async function sendHttpStream(res: ServerResponse, messages: AsyncIterable<Message>, options: HttpStreamOptions): Promise<void> {
  const sse = options.format === "sse";
  res.writeHead(200, {
    ...options.headers,
    "content-type": sse ? "text/event-stream; charset=utf-8" : "application/x-ndjson",
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  res.flushHeaders();
  const heartbeat = sse ? setInterval(() => res.write(": keepalive\n\n"), options.heartbeatMs) : undefined;
  heartbeat?.unref();
  const write = (event: string | undefined, json: unknown): Promise<void> | undefined => {
    const text = JSON.stringify(json);
    const chunk = sse ? `${event === undefined ? "" : `event: ${event}\n`}data: ${text}\n\n` : `${text}\n`;
    return res.write(chunk) ? undefined : waitForDrain(res);
  };
  try {
    for await (const message of messages) {
      if (res.destroyed) break;
      await write(undefined, sse ? options.toJson(message) : { result: options.toJson(message) });
    }
    if (sse && !res.destroyed) await write("end", {});
  } catch (err) {
    const error = FerryError.from(err);
    if (!res.destroyed) await write("error", sse ? options.errorJson(error) : { error: options.errorJson(error) });
  } finally {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    res.end();
  }
}
