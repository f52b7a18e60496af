import type { CallHandler } from "./call.js";

/**
 * Wraps the next step of the call pipeline — the same shape on the client and
 * on the server (as in connect-es): `(next) => async (request) => response`.
 *
 * An interceptor may read or add request metadata, short-circuit with a
 * response or a FerryError, observe the response (headers, trailers, each
 * streamed message by wrapping `messages`), or retry by calling `next` again.
 *
 * Order: interceptors run as an onion, the first in the list outermost. With
 * `[a, b]` a request passes `a` then `b` then reaches the transport (client)
 * or handler (server); the response passes `b` then `a`. The chain is built
 * once per method when a client or server is created, never per call.
 */
export type Interceptor = (next: CallHandler) => CallHandler;

/** Composes `interceptors` around `handler`, the first outermost. */
export function applyInterceptors(handler: CallHandler, interceptors: readonly Interceptor[]): CallHandler {
  let next = handler;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i](next);
  return next;
}
