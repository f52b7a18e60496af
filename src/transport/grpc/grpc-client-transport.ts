import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders, type SecureClientSessionOptions } from "node:http2";
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { ClientTransport } from "../../rpc/client-transport.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES } from "../../rpc/limits.js";
import { startClientKeepalive } from "./client-keepalive.js";
import { GrpcClientCall, type GrpcCallEnv } from "./grpc-client-call.js";
import { checkCompression, type GrpcCompression } from "./grpc-compression.js";
import { applyConnectionWindow, checkWindowBytes, DEFAULT_CONNECTION_WINDOW_BYTES, DEFAULT_STREAM_WINDOW_BYTES, sessionMemoryMegabytes } from "./flow-control-window.js";

/** Options of {@link createGrpcTransport}. */
export interface GrpcClientOptions {
  /**
   * The server: `http://host:port` (cleartext HTTP/2, h2c), `https://host:port`
   * (TLS) or Ferry's `grpc://host:port` (cleartext) / `grpcs://host:port` (TLS).
   */
  baseUrl: string;
  /** TLS options for `https://` and `grpcs://` (ca, cert, key, servername, …). */
  tls?: SecureClientSessionOptions;
  /** Largest response message accepted, in bytes; larger fail with RESOURCE_EXHAUSTED. Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** The `user-agent` header. Default `"ferry-grpc/0.1"`. */
  userAgent?: string;
  /**
   * Encoding of request messages (gRPC doc/compression.md): `"identity"`,
   * `"gzip"` or `"deflate"`. Per call: {@link GrpcTransport.withOptions}; per
   * message: `setMessageCompression`. Default `"identity"`.
   */
  sendCompression?: GrpcCompression;
  /**
   * Response encodings this client accepts, sent as `grpc-accept-encoding`
   * (identity is always accepted). A response in another encoding fails with
   * INTERNAL. Default `["gzip", "deflate"]`.
   */
  acceptCompression?: GrpcCompression[];
  /**
   * Interval between HTTP/2 keepalive PINGs, in ms (gRFC A8). Pings detect
   * dead connections (a peer that vanished without closing TCP). When the
   * server answers GOAWAY ENHANCE_YOUR_CALM "too_many_pings", the interval
   * doubles for later connections. Default `Infinity` (no pings), as gRPC;
   * servers refuse pings more often than every 5 minutes by default.
   */
  keepaliveTimeMs?: number;
  /** Time to wait for a PING ACK before the connection is closed and its calls fail with UNAVAILABLE, in ms. Default 20 000. */
  keepaliveTimeoutMs?: number;
  /** Send keepalive pings even when no call is in flight. Default false. */
  keepalivePermitWithoutCalls?: boolean;
  /**
   * HTTP/2 flow-control window of each call's response stream, in bytes
   * (SETTINGS_INITIAL_WINDOW_SIZE, RFC 9113 §6.9.2): how much a server may
   * send on one stream before this client has read it. Larger windows mean
   * fewer WINDOW_UPDATE round trips for streamed responses. Default 1 MiB.
   */
  streamWindowBytes?: number;
  /**
   * HTTP/2 flow-control window of the whole connection, in bytes (RFC 9113
   * §6.9): the most response data buffered for all calls together. Default 16 MiB.
   */
  connectionWindowBytes?: number;
  /**
   * node:http2's per-connection memory limit (`maxSessionMemory`), in bytes.
   * Default `Infinity`, as grpc-js and C-core: inbound memory is bounded by
   * `connectionWindowBytes`, outbound by backpressure; node's 10 MB default
   * fails large concurrent calls with ENHANCE_YOUR_CALM.
   */
  maxSessionMemoryBytes?: number;
}

/** Per-call settings that {@link GrpcTransport.withOptions} can override. */
export interface GrpcCallOverrides {
  /** Encoding of request messages for calls made through the returned transport. */
  sendCompression?: GrpcCompression;
}

/**
 * The client transport returned by {@link createGrpcTransport}: a
 * ClientTransport plus {@link GrpcTransport.withOptions}.
 */
export interface GrpcTransport extends ClientTransport {
  /**
   * A transport that shares this one's connection but makes calls with
   * `overrides` (for example `{ sendCompression: "gzip" }`): pass it to
   * `createClient` for a compressing client, or keep both clients side by
   * side. Closing either closes the shared connection.
   * Raises INVALID_ARGUMENT for an unknown encoding.
   */
  withOptions(overrides: GrpcCallOverrides): GrpcTransport;
  /**
   * The keepalive interval in use, in ms: `keepaliveTimeMs`, doubled after
   * each GOAWAY "too_many_pings" from the server (gRFC A8). `Infinity` when off.
   */
  readonly keepaliveTimeMs: number;
}

/**
 * Creates the client side of gRPC over HTTP/2 (gRPC PROTOCOL-HTTP2) on
 * `node:http2`. One HTTP/2 connection per transport, opened on the first call
 * and re-opened after it closes or receives GOAWAY; calls are multiplexed on it.
 *
 * Every failure is a FerryError: a connection that cannot be made or is lost
 * is UNAVAILABLE; a non-gRPC HTTP response maps by gRPC's HTTP-to-status
 * table; a cancelled call sends RST_STREAM(CANCEL) to the server.
 */
export function createGrpcTransport(options: GrpcClientOptions): GrpcTransport {
  const connection = new GrpcConnection(options);
  const acceptCompression = (options.acceptCompression ?? ["gzip", "deflate"]).map((c) => checkCompression(c, "acceptCompression"));
  const env: GrpcCallEnv = {
    userAgent: options.userAgent ?? "ferry-grpc/0.1",
    maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    sendCompression: checkCompression(options.sendCompression ?? "identity", "sendCompression"),
    acceptCompression,
    acceptEncodingHeader: [...acceptCompression, "identity"].join(","),
    openStream: (headers) => connection.openStream(headers),
    streamClosed: (session) => connection.streamClosed(session),
    remoteMaxHeaderListBytes: () => connection.remoteMaxHeaderListBytes(),
    connectionError: (session) => connection.connectionError(session),
  };
  return transportView(connection, env);
}

function transportView(connection: GrpcConnection, env: GrpcCallEnv): GrpcTransport {
  return {
    transportName: "grpc",
    get keepaliveTimeMs() {
      return connection.keepaliveTimeMs;
    },
    call: (request) => (connection.closed ? Promise.reject(new FerryError(Code.UNAVAILABLE, "transport is closed")) : new GrpcClientCall(env, request).run()),
    close: () => connection.close(),
    withOptions: (overrides) =>
      transportView(connection, {
        ...env,
        sendCompression: checkCompression(overrides.sendCompression ?? env.sendCompression, "sendCompression"),
      }),
  };
}

/** One HTTP/2 connection to the server, re-opened on demand. */
class GrpcConnection {
  readonly #authority: string;
  #session: ClientHttp2Session | undefined;
  readonly #sessionErrors = new WeakMap<ClientHttp2Session, Error>();
  readonly #settingsReceived = new WeakSet<ClientHttp2Session>();
  #closed = false;
  #active = 0;
  #keepaliveTimeMs: number;
  readonly #streamWindowBytes: number;
  readonly #connectionWindowBytes: number;
  readonly #maxSessionMemory: number;

  constructor(private readonly options: GrpcClientOptions) {
    this.#maxSessionMemory = sessionMemoryMegabytes(options.maxSessionMemoryBytes);
    this.#streamWindowBytes = checkWindowBytes(options.streamWindowBytes ?? DEFAULT_STREAM_WINDOW_BYTES, "streamWindowBytes");
    this.#connectionWindowBytes = checkWindowBytes(options.connectionWindowBytes ?? DEFAULT_CONNECTION_WINDOW_BYTES, "connectionWindowBytes");
    const url = new URL(options.baseUrl);
    const secure = url.protocol === "https:" || url.protocol === "grpcs:";
    if (!secure && url.protocol !== "http:" && url.protocol !== "grpc:") {
      throw new FerryError(Code.INVALID_ARGUMENT, `gRPC base URL must use http:, https:, grpc: or grpcs:, got "${options.baseUrl}"`);
    }
    this.#authority = `${secure ? "https" : "http"}://${url.host}`;
    this.#keepaliveTimeMs = options.keepaliveTimeMs ?? Infinity;
    if (!(this.#keepaliveTimeMs > 0)) throw new FerryError(Code.INVALID_ARGUMENT, `keepaliveTimeMs must be > 0, got ${options.keepaliveTimeMs}`);
  }

  get keepaliveTimeMs(): number {
    return this.#keepaliveTimeMs;
  }

  get closed(): boolean {
    return this.#closed;
  }

  openStream(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const session = this.#currentSession();
    // POST streams stay open for the request body by default (no options object to copy and validate per call).
    const stream = session.request(headers);
    // Keep the process alive while calls are in flight, not while idle.
    if (this.#active++ === 0) session.ref();
    return stream;
  }

  /** The caller's stream on `session` closed; balances {@link openStream}. */
  streamClosed(session: ClientHttp2Session | undefined): void {
    if (--this.#active === 0 && session !== undefined && !session.destroyed && !this.#closed) session.unref();
  }

  remoteMaxHeaderListBytes(): number | undefined {
    const s = this.#session;
    if (s === undefined || s.destroyed || !this.#settingsReceived.has(s)) return undefined;
    return s.remoteSettings.maxHeaderListSize;
  }

  connectionError(session: ClientHttp2Session): Error | undefined {
    return this.#sessionErrors.get(session);
  }

  #currentSession(): ClientHttp2Session {
    const s = this.#session;
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    return this.#connect();
  }

  #connect(): ClientHttp2Session {
    const settings = { initialWindowSize: this.#streamWindowBytes };
    const maxSessionMemory = this.#maxSessionMemory;
    const session = http2.connect(this.#authority, { ...this.options.tls, settings, maxSessionMemory, createConnection: () => this.#openSocket() });
    this.#session = session;
    session.once("connect", () => applyConnectionWindow(session, this.#connectionWindowBytes));
    session.on("error", (err) => this.#sessionErrors.set(session, err));
    session.once("remoteSettings", () => this.#settingsReceived.add(session));
    session.on("goaway", (errorCode, _lastStreamId, opaqueData) => {
      if (this.#session === session) this.#session = undefined;
      // gRFC A8: the server found our pings too frequent; back off by doubling the interval.
      if (errorCode === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM && opaqueData?.toString() === "too_many_pings") this.#keepaliveTimeMs *= 2;
    });
    if (Number.isFinite(this.#keepaliveTimeMs)) {
      startClientKeepalive(session, {
        timeMs: this.#keepaliveTimeMs,
        timeoutMs: this.options.keepaliveTimeoutMs ?? 20_000,
        permitWithoutCalls: this.options.keepalivePermitWithoutCalls ?? false,
        activeCalls: () => (this.#session === session ? this.#active : 1),
      });
    }
    session.once("close", () => {
      if (this.#session === session) this.#session = undefined;
    });
    if (this.#active === 0) session.unref();
    return session;
  }

  /** Opens the TCP (or TLS, ALPN h2) socket with Nagle's algorithm off: small gRPC frames must not wait for ACKs. */
  #openSocket(): Duplex {
    const url = new URL(this.#authority);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    if (url.protocol === "http:") return net.connect({ host, port, noDelay: true });
    const socket = tls.connect({ servername: net.isIP(host) ? undefined : host, ...this.options.tls, host, port, ALPNProtocols: ["h2"] });
    socket.setNoDelay(true);
    return socket;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = undefined;
    if (session === undefined || session.destroyed) return;
    // Hold the process open until the close completes: an idle session is unref'd.
    session.ref();
    await new Promise<void>((resolve) => session.close(() => resolve()));
  }
}
