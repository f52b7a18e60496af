import type { FerryError } from "../rpc/ferry-error.js";

export { headersReceived, markHeadersReceived } from "../rpc/response-committed.js";

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
