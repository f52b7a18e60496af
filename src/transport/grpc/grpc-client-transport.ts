import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders, type SecureClientSessionOptions } from "node:http2";
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import type { ClientTransport } from "../../rpc/client-transport.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES } from "../../rpc/limits.js";
import { GrpcClientCall, type GrpcCallEnv } from "./grpc-client-call.js";
import { checkCompression, type GrpcCompression } from "./grpc-compression.js";

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
  const env: GrpcCallEnv = {
    userAgent: options.userAgent ?? "ferry-grpc/0.1",
    maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    sendCompression: checkCompression(options.sendCompression ?? "identity", "sendCompression"),
    acceptCompression: (options.acceptCompression ?? ["gzip", "deflate"]).map((c) => checkCompression(c, "acceptCompression")),
    openStream: (headers) => connection.openStream(headers),
    connectionError: () => connection.connectionError(),
  };
  return transportView(connection, env);
}

function transportView(connection: GrpcConnection, env: GrpcCallEnv): GrpcTransport {
  return {
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
  #sessionError: Error | undefined;
  #closed = false;
  #active = 0;

  constructor(private readonly options: GrpcClientOptions) {
    const url = new URL(options.baseUrl);
    const secure = url.protocol === "https:" || url.protocol === "grpcs:";
    if (!secure && url.protocol !== "http:" && url.protocol !== "grpc:") {
      throw new FerryError(Code.INVALID_ARGUMENT, `gRPC base URL must use http:, https:, grpc: or grpcs:, got "${options.baseUrl}"`);
    }
    this.#authority = `${secure ? "https" : "http"}://${url.host}`;
  }

  get closed(): boolean {
    return this.#closed;
  }

  openStream(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const session = this.#currentSession();
    const stream = session.request(headers, { endStream: false });
    // Keep the process alive while calls are in flight, not while idle.
    if (this.#active++ === 0) session.ref();
    stream.once("close", () => {
      if (--this.#active === 0 && !session.destroyed) session.unref();
    });
    return stream;
  }

  connectionError(): Error | undefined {
    return this.#sessionError;
  }

  #currentSession(): ClientHttp2Session {
    const s = this.#session;
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    return this.#connect();
  }

  #connect(): ClientHttp2Session {
    this.#sessionError = undefined;
    const session = http2.connect(this.#authority, { ...this.options.tls, createConnection: () => this.#openSocket() });
    this.#session = session;
    session.on("error", (err) => {
      if (this.#session === session) this.#sessionError = err;
    });
    session.on("goaway", () => {
      if (this.#session === session) this.#session = undefined;
    });
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
