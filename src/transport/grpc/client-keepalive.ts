import type { ClientHttp2Session } from "node:http2";

/** Settings of {@link startClientKeepalive}. */
export interface ClientKeepaliveSettings {
  /** Interval between pings, ms. */
  readonly timeMs: number;
  /** Time to wait for a ping's ACK before the connection counts as dead, ms. */
  readonly timeoutMs: number;
  /** Ping even when no call is in flight. */
  readonly permitWithoutCalls: boolean;
  /** Number of calls in flight now. */
  activeCalls(): number;
}

/**
 * Sends HTTP/2 PINGs on `session` every `timeMs` (gRFC A8 "Client-side
 * Keepalive"); a ping not acknowledged within `timeoutMs` destroys the
 * session with an error, which fails its calls with UNAVAILABLE and makes the
 * next call reconnect. Returns a function that stops it; it also stops when
 * the session closes.
 */
export function startClientKeepalive(session: ClientHttp2Session, settings: ClientKeepaliveSettings): () => void {
  let timeout: NodeJS.Timeout | undefined;
  const interval = setInterval(() => {
    if (timeout !== undefined || session.destroyed || session.closed || session.connecting) return;
    if (settings.activeCalls() === 0 && !settings.permitWithoutCalls) return;
    timeout = setTimeout(() => {
      session.destroy(new Error(`keepalive ping not acknowledged within ${settings.timeoutMs} ms`));
    }, settings.timeoutMs);
    timeout.unref();
    try {
      session.ping((err) => {
        clearTimeout(timeout);
        timeout = undefined;
        if (err && !session.destroyed) session.destroy(err);
      });
    } catch {
      clearTimeout(timeout);
      timeout = undefined;
    }
  }, settings.timeMs);
  interval.unref();
  const stop = () => {
    clearInterval(interval);
    if (timeout !== undefined) clearTimeout(timeout);
  };
  session.once("close", stop);
  return stop;
}
