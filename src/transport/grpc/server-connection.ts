import http2, { type Http2Session } from "node:http2";
import type { Logger } from "../../util/logger.js";

/** Connection-management settings of a gRPC server (see GrpcServerOptions for meanings and defaults). */
export interface ServerConnectionSettings {
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly keepaliveMinTimeMs: number;
  readonly keepalivePermitWithoutCalls: boolean;
  readonly maxPingStrikes: number;
  readonly maxConnectionIdleMs: number;
  readonly maxConnectionAgeMs: number;
  readonly maxConnectionAgeGraceMs: number;
  readonly maxResetsPerSecond: number;
  readonly maxResetBurst: number;
}

/** gRFC A8: without calls and without permission, pings are allowed once per 2 hours. */
const IDLE_PING_INTERVAL_MS = 2 * 60 * 60 * 1000;
const MAX_STREAM_ID = 2 ** 31 - 1;
/** Longest wait for the PING between the two GOAWAYs of a graceful close, in ms (about one slow round trip). */
const TWO_PHASE_PING_WAIT_MS = 500;

/**
 * One client connection of a gRPC server: keepalive pings and their
 * enforcement (gRFC A8), max connection idle and age (gRFC A9), the HTTP/2
 * rapid-reset limit (CVE-2023-44487), and the two-phase GOAWAY of a graceful
 * close.
 */
export class ServerConnection {
  #activeStreams = 0;
  #lastPingAt = 0;
  #pingStrikes = 0;
  /** The server sent HEADERS or DATA since the last PING it received. */
  #sentSincePing = false;
  #resetTokens: number;
  #resetRefilledAt = Date.now();
  #draining = false;
  readonly #timers: NodeJS.Timeout[] = [];
  #idleTimer: NodeJS.Timeout | undefined;
  #pingTimeout: NodeJS.Timeout | undefined;

  constructor(
    readonly session: Http2Session,
    private readonly settings: ServerConnectionSettings,
    private readonly logger: Logger,
  ) {
    this.#resetTokens = settings.maxResetBurst;
    session.on("ping", () => this.#onPing());
    session.once("close", () => this.#clearTimers());
    this.#armIdle();
    if (Number.isFinite(settings.maxConnectionAgeMs)) {
      // ±10% jitter so that connections made together do not all reconnect together (gRFC A9).
      const age = settings.maxConnectionAgeMs * (0.9 + Math.random() * 0.2);
      this.#timer(age, () => this.drain(settings.maxConnectionAgeGraceMs, "max_age"));
    }
    if (Number.isFinite(settings.keepaliveTimeMs)) this.#startKeepalive();
  }

  /** True while new calls may start on this connection. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * The server sent HEADERS or DATA on this connection. gRFC A8: a PING that
   * follows is never a strike (`last_valid_ping_time` and `ping_strikes`
   * reset), so a client probing bandwidth with pings during a long download
   * (gRPC C-core and Go do by default) is not told too_many_pings. Cheap: a
   * flag, read on the next PING.
   */
  readonly sent = (): void => {
    this.#sentSincePing = true;
  };

  /** A call started on this connection. */
  streamStarted(): void {
    this.#activeStreams++;
    this.#pingStrikes = 0;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /**
   * A call ended; `resetByPeer` when the client reset it (RST_STREAM) before
   * it completed. Returns false when the reset rate is exceeded and the
   * connection is being closed (rapid reset, CVE-2023-44487).
   */
  streamEnded(resetByPeer: boolean): boolean {
    this.#activeStreams--;
    if (this.#activeStreams === 0) this.#armIdle();
    if (!resetByPeer) return true;
    return this.#spendResetToken();
  }

  /**
   * A stream was refused because the connection's handlers are all busy
   * (including handlers still running for streams the client reset). Counts
   * against the reset-rate limit; returns false when the connection is being
   * closed.
   */
  streamRefused(): boolean {
    return this.#spendResetToken();
  }

  #spendResetToken(): boolean {
    if (this.#draining) return false;
    const now = Date.now();
    const { maxResetsPerSecond, maxResetBurst } = this.settings;
    this.#resetTokens = Math.min(maxResetBurst, this.#resetTokens + ((now - this.#resetRefilledAt) / 1000) * maxResetsPerSecond);
    this.#resetRefilledAt = now;
    if (--this.#resetTokens >= 0) return true;
    this.logger.warn({ peer: this.#peer() }, "gRPC client reset too many streams; closing the connection");
    this.#goawayAndDestroy("too_many_resets");
    return false;
  }

  /**
   * Graceful close with the two-phase GOAWAY of gRPC (doc/PROTOCOL-HTTP2,
   * "GOAWAY"): a GOAWAY with the largest stream id and a PING, so in-flight
   * requests are not refused; once the PING is answered, a GOAWAY with the
   * last stream id actually accepted. Calls in flight get `graceMs` to finish,
   * then the connection is destroyed.
   */
  drain(graceMs: number, reason = "shutdown"): void {
    const session = this.session;
    if (this.#draining || session.destroyed) return;
    this.#draining = true;
    try {
      session.goaway(http2.constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID, Buffer.from(reason));
      const second = () => {
        if (!session.destroyed && !session.closed) session.close();
      };
      // node:http2 clients (grpc-js too) often leave this PING unanswered once they saw the GOAWAY: do not wait long.
      const fallback = setTimeout(second, Math.min(TWO_PHASE_PING_WAIT_MS, graceMs));
      fallback.unref();
      this.#timers.push(fallback);
      // An error here usually means the client already closed; close our side too.
      session.ping(() => {
        clearTimeout(fallback);
        second();
      });
    } catch {
      if (!session.destroyed) session.close();
    }
    if (Number.isFinite(graceMs)) this.#timer(graceMs, () => this.destroy());
  }

  /** Closes the connection at once; streams still open are reset. */
  destroy(): void {
    this.#clearTimers();
    if (!this.session.destroyed) this.session.destroy();
  }

  #onPing(): void {
    if (this.#sentSincePing) {
      this.#sentSincePing = false;
      this.#pingStrikes = 0;
      this.#lastPingAt = 0;
    }
    const now = Date.now();
    const idle = this.#activeStreams === 0 && !this.settings.keepalivePermitWithoutCalls;
    const minInterval = idle ? Math.max(IDLE_PING_INTERVAL_MS, this.settings.keepaliveMinTimeMs) : this.settings.keepaliveMinTimeMs;
    if (this.#lastPingAt !== 0 && now - this.#lastPingAt < minInterval) this.#pingStrikes++;
    this.#lastPingAt = now;
    if (this.#pingStrikes > this.settings.maxPingStrikes) {
      this.logger.warn({ peer: this.#peer() }, "gRPC client pings too often; GOAWAY too_many_pings");
      this.#goawayAndDestroy("too_many_pings");
    }
  }

  /** GOAWAY ENHANCE_YOUR_CALM with `debugData`, then close (gRFC A8). */
  #goawayAndDestroy(debugData: string): void {
    const session = this.session;
    if (session.destroyed) return;
    this.#draining = true;
    try {
      session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, undefined, Buffer.from(debugData));
    } catch {
      // already closing
    }
    // Let the GOAWAY frame reach the socket before the connection goes.
    setImmediate(() => this.destroy());
  }

  #startKeepalive(): void {
    const { keepaliveTimeMs, keepaliveTimeoutMs } = this.settings;
    const interval = setInterval(() => {
      if (this.#pingTimeout !== undefined || this.session.destroyed) return;
      this.#pingTimeout = setTimeout(() => this.destroy(), keepaliveTimeoutMs);
      this.#pingTimeout.unref();
      try {
        this.session.ping(() => {
          clearTimeout(this.#pingTimeout);
          this.#pingTimeout = undefined;
        });
      } catch {
        clearTimeout(this.#pingTimeout);
        this.#pingTimeout = undefined;
      }
    }, keepaliveTimeMs);
    interval.unref();
    this.#timers.push(interval);
  }

  #armIdle(): void {
    const idleMs = this.settings.maxConnectionIdleMs;
    if (!Number.isFinite(idleMs) || this.#draining) return;
    this.#idleTimer = setTimeout(() => this.drain(Infinity, "max_idle"), idleMs);
    this.#idleTimer.unref();
  }

  #timer(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    t.unref();
    this.#timers.push(t);
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.length = 0;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    if (this.#pingTimeout !== undefined) clearTimeout(this.#pingTimeout);
  }

  #peer(): string {
    const s = this.session.socket;
    return `${s?.remoteAddress}:${s?.remotePort}`;
  }
}
