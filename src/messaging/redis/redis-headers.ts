import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";

/**
 * How a Ferry message is stored as a Redis stream entry: two fields,
 * `payload` (the encoded bytes) and `headers` (a JSON object of string
 * values). Entries written by other producers are delivered with whatever
 * `payload` field they have (empty when none) and no headers.
 */
export const entryFields = Object.freeze({ payload: "payload", headers: "headers" });

/** A stream entry as `XREADGROUP`/`XCLAIM` return it with binary replies: `[id, [field, value, …]]`. */
export type RawEntry = [Buffer, Buffer[] | null];

/** A decoded entry. */
export interface StreamEntry {
  readonly id: string;
  readonly payload: Uint8Array;
  readonly headers: Record<string, string>;
}

/** Decodes an entry; `undefined` for an entry deleted meanwhile (nil fields). */
export function decodeEntry(raw: RawEntry): StreamEntry | undefined {
  const [idBuf, fields] = raw;
  if (fields === null || fields === undefined) return undefined;
  let payload: Uint8Array = new Uint8Array(0);
  let headers: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i].toString();
    if (name === entryFields.payload) payload = fields[i + 1];
    else if (name === entryFields.headers) headers = parseHeaders(fields[i + 1].toString());
  }
  return { id: idBuf.toString(), payload, headers };
}

function parseHeaders(json: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== "object" || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === "string")) as Record<string, string>;
  } catch {
    return {};
  }
}

/**
 * A FerryError for a failed Redis command: UNAVAILABLE (retryable) when the
 * connection is down or the command could not be sent, RESOURCE_EXHAUSTED
 * for Redis's OOM reply, INTERNAL for other error replies.
 */
export function redisError(what: string, err: unknown): FerryError {
  if (err instanceof FerryError) return err;
  const message = (err as Error)?.message ?? String(err);
  const reply = (err as Error)?.name === "ReplyError";
  const code = !reply ? Code.UNAVAILABLE : message.startsWith("OOM") ? Code.RESOURCE_EXHAUSTED : Code.INTERNAL;
  return new FerryError(code, `${what}: ${message}`, { cause: err });
}
