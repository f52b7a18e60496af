import type { FerryError } from "../rpc/ferry-error.js";

const headersReceivedKey = Symbol.for("ferry.responseHeadersReceived");

/**
 * Marks `error` as having failed after the response headers arrived. gRFC A6
 * commits a call at that point: it is never retried or hedged again, since
 * the server has started answering. Transports call this for a unary call
 * that fails after its headers came (a stream whose `next()` resolved is
 * committed anyway). Returns `error`.
 */
export function markHeadersReceived(error: FerryError): FerryError {
  Object.defineProperty(error, headersReceivedKey, { value: true, enumerable: false });
  return error;
}

/** True when `error` was marked by {@link markHeadersReceived}. */
export function headersReceived(error: FerryError): boolean {
  return (error as unknown as Record<symbol, unknown>)[headersReceivedKey] === true;
}

/** The trailer by which a server tells the client when (or whether) to retry (gRFC A6). */
export const PUSHBACK_KEY = "grpc-retry-pushback-ms";

/**
 * Reads the server's retry pushback from an error's trailers (gRFC A6):
 * `undefined` when absent; a delay in ms for a valid non-negative integer;
 * `"stop"` for a negative or unparsable value, which means "do not retry".
 */
export function pushbackOf(error: FerryError): number | "stop" | undefined {
  const values = error.metadata.getAll(PUSHBACK_KEY);
  if (values.length === 0) return undefined;
  const text = values[0];
  if (values.length > 1 || typeof text !== "string" || !/^\d{1,10}$/.test(text)) return "stop";
  const ms = Number(text);
  return ms <= 0x7fffffff ? ms : "stop";
}
