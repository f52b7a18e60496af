import http from "node:http";
import http2, { type Http2Session, type IncomingHttpHeaders, type SecureServerOptions, type ServerHttp2Stream } from "node:http2";
import type net from "node:net";
import type tls from "node:tls";
import type { PeerCertificate, SecureContextOptions, TLSSocket } from "node:tls";
import type { AddressInfo } from "node:net";
import { CallContext } from "../../rpc/call-context.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { parseGrpcTimeout } from "../../rpc/grpc-timeout.js";
import type { Router } from "../../rpc/router.js";
import type { ListeningAddress, ServerTransport } from "../../rpc/server-transport.js";
import { checkCompression, isGrpcCompression, parseAcceptEncoding, SUPPORTED_COMPRESSIONS, type GrpcCompression } from "./grpc-compression.js";
import { http1Exchange, http2Exchange } from "./connect-exchange.js";
import { DEFAULT_WEB_COMPRESS_MIN_BYTES, isWebRequest, serveWebRequest, webCorsPolicy, type WebProtocolSettings } from "./web-request.js";
import type { CorsOptions } from "../../util/cors.js";
import { readMetadata } from "./grpc-headers.js";
import { grpcPeerCertificate } from "./peer-certificate.js";
import { applyConnectionWindow, checkWindowBytes, DEFAULT_CONNECTION_WINDOW_BYTES, DEFAULT_STREAM_WINDOW_BYTES, sessionMemoryMegabytes } from "./flow-control-window.js";
import { createProtocolFront } from "./protocol-front.js";
import { ServerConnection, type ServerConnectionSettings } from "./server-connection.js";
import { GrpcServerCall, sendTrailersOnly } from "./grpc-server-call.js";
import { checkAdvertise, listeningAddress, type AdvertiseOptions } from "../advertised-url.js";

/** Options of {@link createGrpcServerTransport}. */
export interface GrpcServerOptions extends AdvertiseOptions {
  /** Interface to bind (`"0.0.0.0"` or `"::"` for every one; then set `advertiseHost`). Default `"127.0.0.1"`, reachable from this machine only. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 50051. */
  port?: number;
  /**
   * TLS options (`node:tls` key, cert, ca, requestCert, …). When given the
   * server speaks gRPC over TLS with ALPN `h2`; otherwise cleartext HTTP/2 (h2c).
   * For mTLS add `ca` (the CAs that sign client certificates),
   * `requestCert: true` and `rejectUnauthorized: true`: connections without a
   * valid client certificate then fail the TLS handshake. Certificates can be
   * replaced while running with {@link GrpcServerTransport.setSecureContext}.
   */
  tls?: SecureServerOptions;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. Default 1000. */
  maxConcurrentStreams?: number;
  /**
   * Largest request header block (metadata included), in bytes: HTTP/2
   * SETTINGS_MAX_HEADER_LIST_SIZE, and the HTTP/1.1 header limit for
   * Connect. Larger requests are refused (HTTP/2 RST_STREAM, which gRPC
   * clients report as INTERNAL or RESOURCE_EXHAUSTED; HTTP/1.1 431). Default 8 KiB, as gRPC.
   */
  maxHeaderListBytes?: number;
  /**
   * Serve the Connect protocol and gRPC-Web on the same port, over HTTP/2
   * and HTTP/1.1, chosen by content type: Connect unary (`application/json`,
   * `application/proto`; GET for `NO_SIDE_EFFECTS` methods), Connect
   * streaming (`application/connect+json|proto`) and gRPC-Web
   * (`application/grpc-web[+proto|+json]`, `application/grpc-web-text`).
   * See docs/grpc.md. Default true.
   */
  connect?: boolean;
  /**
   * Connect and gRPC-Web responses (unary bodies, streamed messages) at
   * least this large are compressed with the first encoding the client
   * accepts (gzip, br, deflate), in bytes; `Infinity` never compresses.
   * Default 1024, as Connect-ES's `compressMinBytes`.
   */
  webCompressMinBytes?: number;
  /**
   * CORS for browsers calling the Connect protocol on this port (Fetch
   * standard): preflights answered, allowed origins get the CORS headers.
   * See `CorsOptions` and docs/security.md. Default none (preflights get 405).
   */
  cors?: CorsOptions;
  /**
   * Encoding of response messages (gRPC doc/compression.md): `"identity"`,
   * `"gzip"` or `"deflate"`. Used only when the client lists it in
   * `grpc-accept-encoding`; a handler can choose per call with the context
   * key `grpcResponseCompression`. Requests in gzip, deflate or identity are
   * always accepted. Default `"identity"`.
   */
  sendCompression?: GrpcCompression;
  /** Interval between the server's keepalive PINGs on each connection, in ms (gRFC A8). Default 7 200 000 (2 hours). */
  keepaliveTimeMs?: number;
  /** Time to wait for a PING ACK before the connection is closed, in ms. Default 20 000. */
  keepaliveTimeoutMs?: number;
  /**
   * Smallest interval between client PINGs the server tolerates, in ms
   * (gRFC A8 "permit keepalive time"). A client that pings more often
   * `maxPingStrikes` + 1 times gets GOAWAY ENHANCE_YOUR_CALM with debug data
   * "too_many_pings" and the connection is closed. Default 300 000 (5 min).
   */
  keepaliveMinTimeMs?: number;
  /** Tolerate client PINGs while no call is in flight (otherwise once per 2 hours). Default false. */
  keepalivePermitWithoutCalls?: boolean;
  /** Too-frequent PINGs tolerated before GOAWAY too_many_pings. Default 2. */
  maxPingStrikes?: number;
  /** Close (graceful GOAWAY) a connection without calls for this long, in ms (gRFC A9). Default `Infinity`. */
  maxConnectionIdleMs?: number;
  /** Close (graceful GOAWAY) a connection this old, in ms, ±10% jitter (gRFC A9). Default `Infinity`. */
  maxConnectionAgeMs?: number;
  /** After max age, time calls in flight get to finish before the connection is destroyed, in ms. Default `Infinity`. */
  maxConnectionAgeGraceMs?: number;
  /**
   * Rapid-reset limit (CVE-2023-44487): streams a client may reset per
   * second on one connection, on average. Beyond it (after a burst of
   * `maxResetBurst`) the server sends GOAWAY ENHANCE_YOUR_CALM
   * "too_many_resets" and closes the connection. Default 100.
   */
  maxResetsPerSecond?: number;
  /** Resets allowed in a burst before `maxResetsPerSecond` applies. Default 500. */
  maxResetBurst?: number;
  /**
   * HTTP/2 flow-control window of each call's request stream, in bytes
   * (SETTINGS_INITIAL_WINDOW_SIZE, RFC 9113 §6.9.2): how much a client may
   * send on one stream before its handler has read it. Default 1 MiB.
   */
  streamWindowBytes?: number;
  /** HTTP/2 flow-control window of each connection, in bytes (RFC 9113 §6.9). Default 16 MiB. */
  connectionWindowBytes?: number;
  /**
   * node:http2's per-connection memory limit (`maxSessionMemory`), in bytes;
   * past it new streams are refused with ENHANCE_YOUR_CALM. Default
   * `Infinity`, as grpc-js and C-core: inbound memory is bounded by
   * `connectionWindowBytes`, outbound by backpressure (docs/grpc.md, limits).
   */
  maxSessionMemoryBytes?: number;
}

/**
 * Creates the server side of gRPC over HTTP/2 (gRPC PROTOCOL-HTTP2), on
 * `node:http2`. All four method kinds; metadata including `-bin` keys;
 * status and percent-encoded message in trailers or Trailers-Only;
 * `grpc-timeout` enforced; client RST_STREAM cancels the handler's signal.
 *
 * Requests that are not gRPC get an HTTP error (405 for a method other than
 * POST, 415 for a content type other than `application/grpc*`); an unknown
 * service or method gets UNIMPLEMENTED; an invalid `grpc-timeout` gets
 * INTERNAL; a message over the server's receive limit RESOURCE_EXHAUSTED.
 */
export function createGrpcServerTransport(options: GrpcServerOptions = {}): GrpcServerTransport {
  return new GrpcServerTransportImpl(options);
}

/** The server transport returned by {@link createGrpcServerTransport}. */
export interface GrpcServerTransport extends ServerTransport {
  /**
   * Replaces the TLS certificate, key or CAs without a restart (for example
   * after a certificate was renewed): new connections use `options`,
   * established ones keep theirs. Raises FAILED_PRECONDITION when the server
   * was not started with `tls`.
   */
  setSecureContext(options: SecureContextOptions): void;
}

class GrpcServerTransportImpl implements GrpcServerTransport {
  #server: net.Server | tls.Server | undefined;
  #h1: http.Server | undefined;
  readonly #connections = new Map<Http2Session, ServerConnection>();
  readonly #handlers = new WeakMap<Http2Session, { inFlight: number }>();
  #settings!: ServerConnectionSettings;
  #logger!: Router["logger"];
  readonly #peers = new WeakMap<Http2Session, string>();
  readonly #peerCerts = new WeakMap<Http2Session, PeerCertificate & { authorized: boolean }>();
  #draining = false;

  readonly #sendCompression: GrpcCompression;
  readonly #maxHeaderListBytes: number;
  readonly #acceptEncodingCache = new Map<string, ReadonlySet<string>>();
  readonly #streamWindowBytes: number;
  readonly #connectionWindowBytes: number;

  readonly #web: WebProtocolSettings;

  constructor(private readonly options: GrpcServerOptions) {
    checkAdvertise(options);
    const compressMinBytes = options.webCompressMinBytes ?? DEFAULT_WEB_COMPRESS_MIN_BYTES;
    if (!(compressMinBytes >= 0)) throw new FerryError(Code.INVALID_ARGUMENT, `webCompressMinBytes must be a number >= 0, got ${compressMinBytes}`);
    this.#web = { cors: options.cors === undefined ? undefined : webCorsPolicy(options.cors), compressMinBytes };
    this.#sendCompression = checkCompression(options.sendCompression ?? "identity", "sendCompression");
    this.#maxHeaderListBytes = options.maxHeaderListBytes ?? DEFAULT_MAX_HEADER_LIST_BYTES;
    this.#streamWindowBytes = checkWindowBytes(options.streamWindowBytes ?? DEFAULT_STREAM_WINDOW_BYTES, "streamWindowBytes");
    this.#connectionWindowBytes = checkWindowBytes(options.connectionWindowBytes ?? DEFAULT_CONNECTION_WINDOW_BYTES, "connectionWindowBytes");
  }

  start(router: Router): Promise<ListeningAddress> {
    this.#logger = router.logger;
    this.#settings = connectionSettings(this.options);
    const maxHeaderListBytes = this.#maxHeaderListBytes;
    const settings = { maxConcurrentStreams: this.options.maxConcurrentStreams ?? 1000, maxHeaderListSize: maxHeaderListBytes, initialWindowSize: this.#streamWindowBytes };
    const maxSessionMemory = sessionMemoryMegabytes(this.options.maxSessionMemoryBytes);
    const h2 = http2.createServer({ settings, maxSessionMemory, maxSessionInvalidFrames: 100, maxSessionRejectedStreams: 10_000 });
    h2.on("session", (session) => this.#onSession(session));
    h2.on("stream", (stream, headers) => this.#onStream(router, stream, headers));
    const h1 =
      this.options.connect === false
        ? undefined
        : http.createServer({ maxHeaderSize: maxHeaderListBytes, requestTimeout: 300_000 }, (req, res) => {
            void serveWebRequest(router, http1Exchange(req, res), this.#web);
          });
    this.#h1 = h1;
    const server = createProtocolFront({ h2, h1, tls: this.options.tls, firstBytesTimeoutMs: 10_000 });
    this.#server = server;
    const host = this.options.host ?? "127.0.0.1";
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? 50051, host, () => {
        server.off("error", reject);
        server.on("error", (err) => router.logger.error({ err }, "gRPC server error"));
        // node:http sets up its connection tracking (idle close, header and request timeouts) on "listening".
        h1?.emit("listening");
        const port = (server.address() as AddressInfo).port;
        resolve(listeningAddress(this.options.tls ? "grpcs" : "grpc", "grpc", host, port, this.options));
      });
    });
  }

  #onSession(session: Http2Session): void {
    const conn = new ServerConnection(session, this.#settings, this.#logger);
    this.#connections.set(session, conn);
    this.#handlers.set(session, { inFlight: 0 });
    const socket = session.socket;
    this.#peers.set(session, `${socket.remoteAddress}:${socket.remotePort}`);
    const tlsSocket = socket as Partial<TLSSocket>;
    const cert = tlsSocket.getPeerCertificate?.();
    if (cert !== undefined && Object.keys(cert).length > 0) this.#peerCerts.set(session, { ...cert, authorized: tlsSocket.authorized === true });
    session.on("error", () => undefined);
    session.once("close", () => this.#connections.delete(session));
    applyConnectionWindow(session, this.#connectionWindowBytes);
    if (this.#draining) session.close();
  }

  #onStream(router: Router, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // Resets (ours or the client's) surface as stream errors; they are handled through "close".
    stream.on("error", () => undefined);
    const session = stream.session as Http2Session;
    const conn = this.#connections.get(session);
    const handlers = this.#handlers.get(session);
    if (conn === undefined || handlers === undefined) return void stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    // Handlers still running for reset streams count too, so a reset flood cannot pile up work (CVE-2023-44487).
    if (handlers.inFlight >= (this.options.maxConcurrentStreams ?? 1000)) {
      conn.streamRefused();
      return void stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    }
    conn.streamStarted();
    // The stream's one "close" listener: the connection's accounting, then the call (if one starts below).
    let call: GrpcServerCall | undefined = undefined;
    stream.on("close", () => {
      conn.streamEnded(stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !conn.draining);
      call?.closed();
    });
    const headerBytes = headerListBytes(headers);
    if (headerBytes > this.#maxHeaderListBytes) {
      const error = new FerryError(Code.RESOURCE_EXHAUSTED, `request headers and metadata of ${headerBytes} bytes exceed the server's limit of ${this.#maxHeaderListBytes} bytes`);
      if (headers["content-type"]?.startsWith("application/grpc")) return void sendTrailersOnly(stream, error);
      return void respondHttp(stream, 431);
    }
    if (this.options.connect !== false && isWebRequest(headers)) {
      handlers.inFlight++;
      const exchange = http2Exchange(stream, headers, this.#peers.get(session) ?? "unknown");
      void serveWebRequest(router, exchange, this.#web).finally(() => handlers.inFlight--);
      return;
    }
    call = this.#route(router, stream, headers);
    if (call === undefined) return;
    handlers.inFlight++;
    call.onSettled = () => handlers.inFlight--;
    call.onSent = conn.sent;
    call.start();
  }

  /** Checks the request and builds its call; answers and returns `undefined` when it cannot be served. */
  #route(router: Router, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): GrpcServerCall | undefined {
    if (headers[":method"] !== "POST") return void respondHttp(stream, 405);
    const contentType = headers["content-type"];
    if (contentType === undefined || !(contentType === "application/grpc" || contentType.startsWith("application/grpc+") || contentType.startsWith("application/grpc;"))) {
      return void respondHttp(stream, 415);
    }
    if (contentType.startsWith("application/grpc+") && !contentType.startsWith("application/grpc+proto")) {
      return void sendTrailersOnly(stream, new FerryError(Code.INTERNAL, `unsupported content type ${contentType}`));
    }
    const path = headers[":path"] ?? "";
    const entry = router.lookup(path);
    if (entry === undefined) return void sendTrailersOnly(stream, router.unknownPathError(path));
    const encoding = (headers["grpc-encoding"] as string | undefined)?.toLowerCase() ?? "identity";
    if (!isGrpcCompression(encoding)) {
      // gRPC doc/compression.md: UNIMPLEMENTED, with grpc-accept-encoding (on every Trailers-Only answer) listing what is supported.
      return void sendTrailersOnly(stream, new FerryError(Code.UNIMPLEMENTED, `unsupported grpc-encoding "${encoding}" (supported: ${SUPPORTED_COMPRESSIONS.join(", ")})`));
    }
    let deadline: number | undefined;
    const timeout = headers["grpc-timeout"] as string | undefined;
    if (timeout !== undefined) {
      const ms = parseGrpcTimeout(timeout);
      if (ms === undefined) return void sendTrailersOnly(stream, new FerryError(Code.INTERNAL, `invalid grpc-timeout "${timeout}"`));
      deadline = Date.now() + ms;
    }
    const ctx = new CallContext({
      method: entry.info,
      requestMetadata: readMetadata(headers),
      deadline,
      peer: this.#peers.get(stream.session as Http2Session) ?? "unknown",
      transport: "grpc",
    });
    const cert = this.#peerCerts.get(stream.session as Http2Session);
    if (cert !== undefined) ctx.values.set(grpcPeerCertificate, cert);
    const compression = { requestEncoding: encoding, acceptEncodings: this.#acceptEncodings(headers["grpc-accept-encoding"]), sendCompression: this.#sendCompression };
    return new GrpcServerCall(router, entry, stream, ctx, compression);
  }

  /** `grpc-accept-encoding` parsed, cached per header value: clients send the same value on every call. */
  #acceptEncodings(value: string | string[] | undefined): ReadonlySet<string> {
    if (typeof value !== "string") return parseAcceptEncoding(value);
    let set = this.#acceptEncodingCache.get(value);
    if (set === undefined) {
      set = parseAcceptEncoding(value);
      if (this.#acceptEncodingCache.size >= ACCEPT_ENCODING_CACHE_SIZE) this.#acceptEncodingCache.clear();
      this.#acceptEncodingCache.set(value, set);
    }
    return set;
  }

  setSecureContext(options: SecureContextOptions): void {
    const server = this.#server;
    if (server === undefined || !this.options.tls) throw new FerryError(Code.FAILED_PRECONDITION, "setSecureContext needs a started server with tls options");
    (server as tls.Server).setSecureContext(options);
  }

  async shutdown(graceMs: number): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const conn of this.#connections.values()) conn.drain(graceMs);
    const h1 = this.#h1;
    let h1Timer: NodeJS.Timeout | undefined;
    if (h1 !== undefined) {
      h1.closeIdleConnections();
      h1.close();
      h1Timer = setTimeout(() => h1.closeAllConnections(), graceMs);
    }
    // The front server's close() waits for its sockets, which the HTTP/2 and HTTP/1.1 layers own.
    await Promise.all([closed, ...[...this.#connections.keys()].map((s) => new Promise((r) => (s.closed && s.destroyed ? r(undefined) : s.once("close", r))))]);
    if (h1Timer !== undefined) clearTimeout(h1Timer);
  }
}

/** Distinct `grpc-accept-encoding` values remembered (bounded: clients choose the values). */
const ACCEPT_ENCODING_CACHE_SIZE = 32;

/** Default largest request header block: 8 KiB, as gRPC's default max metadata size. */
const DEFAULT_MAX_HEADER_LIST_BYTES = 8 * 1024;

function connectionSettings(o: GrpcServerOptions): ServerConnectionSettings {
  return {
    keepaliveTimeMs: o.keepaliveTimeMs ?? 7_200_000,
    keepaliveTimeoutMs: o.keepaliveTimeoutMs ?? 20_000,
    keepaliveMinTimeMs: o.keepaliveMinTimeMs ?? 300_000,
    keepalivePermitWithoutCalls: o.keepalivePermitWithoutCalls ?? false,
    maxPingStrikes: o.maxPingStrikes ?? 2,
    maxConnectionIdleMs: o.maxConnectionIdleMs ?? Infinity,
    maxConnectionAgeMs: o.maxConnectionAgeMs ?? Infinity,
    maxConnectionAgeGraceMs: o.maxConnectionAgeGraceMs ?? Infinity,
    maxResetsPerSecond: o.maxResetsPerSecond ?? 100,
    maxResetBurst: o.maxResetBurst ?? 500,
  };
}

/**
 * The size of a received header block as HTTP/2 counts it (RFC 9113 §6.5.2:
 * name and value octets plus 32 per field). node:http2 advertises
 * SETTINGS_MAX_HEADER_LIST_SIZE but does not enforce it on what it receives.
 */
function headerListBytes(headers: IncomingHttpHeaders): number {
  let size = 0;
  for (const key in headers) {
    const v = headers[key];
    if (typeof v === "string") size += key.length + v.length + 32;
    else if (v !== undefined) for (const value of Array.isArray(v) ? v : [v]) size += key.length + String(value).length + 32;
  }
  return size;
}

function respondHttp(stream: ServerHttp2Stream, status: number): void {
  try {
    stream.respond({ ":status": status }, { endStream: true });
  } catch {
    // reset by the peer meanwhile
  }
}
