import { Code } from "../rpc/code.js";
import type { FerryError } from "../rpc/ferry-error.js";

/** System error codes meaning the connection was never established, so the request was not sent. */
const NEVER_CONNECTED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EADDRNOTAVAIL"]);

/** The first `code` string found along `error.cause` (at most 5 levels), e.g. `"ECONNRESET"`. */
function systemCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * True when a call failed because of its connection rather than with a
 * status sent by the server: UNAVAILABLE carrying a local cause (a socket
 * or HTTP/2 session error). A server's own UNAVAILABLE status has no cause.
 */
export function isConnectionError(error: FerryError): boolean {
  return error.code === Code.UNAVAILABLE && error.cause !== undefined;
}

/**
 * True when the connection could not be made at all (refused, unreachable,
 * name not found): the request never left this process, so it may be sent
 * again on another subchannel without breaking at-most-once semantics (gRPC's
 * transparent retry).
 */
export function isNeverSent(error: FerryError): boolean {
  if (error.code !== Code.UNAVAILABLE) return false;
  const code = systemCode(error.cause);
  return code !== undefined && NEVER_CONNECTED.has(code);
}
