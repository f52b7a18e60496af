import type { FerryError } from "./ferry-error.js";

const headersReceivedKey = Symbol.for("ferry.responseHeadersReceived");

/**
 * Marks `error` as having failed after the response headers arrived. gRFC A6
 * commits a call at that point: it is never retried or hedged again, since
 * the server has started answering. Client transports call this for a unary
 * call that fails after its headers came (a stream whose `next()` resolved is
 * committed anyway). Returns `error`.
 */
export function markHeadersReceived(error: FerryError): FerryError {
  Object.defineProperty(error, headersReceivedKey, { value: true, enumerable: false, configurable: true });
  return error;
}

/** True when `error` was marked by {@link markHeadersReceived}. */
export function headersReceived(error: FerryError): boolean {
  return (error as unknown as Record<symbol, unknown>)[headersReceivedKey] === true;
}
