import type { Http2Session } from "node:http2";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";

/**
 * Default HTTP/2 stream flow-control window of Ferry's gRPC peers: 1 MiB
 * (HTTP/2's own default is 64 KiB − 1, which costs a WINDOW_UPDATE round
 * trip every 64 KiB of a streamed call).
 */
export const DEFAULT_STREAM_WINDOW_BYTES = 1 << 20;

/** Default HTTP/2 connection flow-control window of Ferry's gRPC peers: 16 MiB. */
export const DEFAULT_CONNECTION_WINDOW_BYTES = 16 << 20;

/** Largest HTTP/2 window (RFC 9113 §6.9.1: 2^31 − 1). */
const MAX_WINDOW_BYTES = 2 ** 31 - 1;

/** Raises INVALID_ARGUMENT unless `bytes` is a valid HTTP/2 window size (65 535 … 2^31 − 1); returns it. */
export function checkWindowBytes(bytes: number, option: string): number {
  if (!Number.isInteger(bytes) || bytes < 65_535 || bytes > MAX_WINDOW_BYTES) {
    throw new FerryError(Code.INVALID_ARGUMENT, `${option} must be an integer from 65535 to ${MAX_WINDOW_BYTES}, got ${bytes}`);
  }
  return bytes;
}

/** Raises the connection's receive window to `bytes` (a WINDOW_UPDATE on stream 0); a closing session is left alone. */
export function applyConnectionWindow(session: Http2Session, bytes: number): void {
  if (session.destroyed || session.closed) return;
  try {
    session.setLocalWindowSize(bytes);
  } catch {
    // the session closed meanwhile
  }
}

/**
 * node:http2's `maxSessionMemory` (in MB) for a `maxSessionMemoryBytes`
 * option. Default `Infinity`, as grpc-js and gRPC C-core do: a connection's
 * inbound memory is already bounded by its flow-control windows
 * (`connectionWindowBytes`), and outbound data by backpressure, while
 * node's own default (10 MB) refuses new streams with ENHANCE_YOUR_CALM —
 * RESOURCE_EXHAUSTED at the client — under legitimate load (1000 concurrent
 * 1 MiB calls on one connection). Raises INVALID_ARGUMENT for a value that
 * is not a positive number.
 */
export function sessionMemoryMegabytes(bytes: number | undefined, option = "maxSessionMemoryBytes"): number {
  const value = bytes ?? Infinity;
  if (!(value > 0)) throw new FerryError(Code.INVALID_ARGUMENT, `${option} must be a positive number of bytes, got ${bytes}`);
  return Number.isFinite(value) ? Math.max(1, Math.ceil(value / (1 << 20))) : Number.MAX_SAFE_INTEGER;
}
