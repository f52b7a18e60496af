import http2, { type Http2SecureServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type SecureServerOptions, type ServerHttp2Stream } from "node:http2";
import type { SecureContextOptions } from "node:tls";
import type { AddressInfo } from "node:net";
import { CallContext } from "../../rpc/call-context.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { parseGrpcTimeout } from "../../rpc/grpc-timeout.js";
import type { Router } from "../../rpc/router.js";
import type { ListeningAddress, ServerTransport } from "../../rpc/server-transport.js";
import { checkCompression, isGrpcCompression, parseAcceptEncoding, SUPPORTED_COMPRESSIONS, type GrpcCompression } from "./grpc-compression.js";
import { readMetadata } from "./grpc-headers.js";
import { GrpcServerCall, sendTrailersOnly } from "./grpc-server-call.js";

/** Options of {@link createGrpcServerTransport}. */
export interface GrpcServerOptions {
  /** Interface to bind. Default `"127.0.0.1"`. */
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
  /** HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE: largest request header block (metadata included), in bytes. Default 16 KiB. */
  maxHeaderListBytes?: number;
  /**
   * Encoding of response messages (gRPC doc/compression.md): `"identity"`,
   * `"gzip"` or `"deflate"`. Used only when the client lists it in
   * `grpc-accept-encoding`; a handler can choose per call with the context
   * key `grpcResponseCompression`. Requests in gzip, deflate or identity are
   * always accepted. Default `"identity"`.
   */
  sendCompression?: GrpcCompression;
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
  #server: Http2Server | Http2SecureServer | undefined;
  readonly #sessions = new Set<Http2Session>();
  readonly #peers = new WeakMap<Http2Session, string>();
  #draining = false;

  readonly #sendCompression: GrpcCompression;

  constructor(private readonly options: GrpcServerOptions) {
    this.#sendCompression = checkCompression(options.sendCompression ?? "identity", "sendCompression");
  }

  start(router: Router): Promise<ListeningAddress> {
    const settings = {
      maxConcurrentStreams: this.options.maxConcurrentStreams ?? 1000,
      maxHeaderListSize: this.options.maxHeaderListBytes ?? 16 * 1024,
    };
    const server = this.options.tls
      ? http2.createSecureServer({ ...this.options.tls, settings, allowHTTP1: false })
      : http2.createServer({ settings });
    this.#server = server;
    server.on("connection", (socket: { setNoDelay?: (v: boolean) => void }) => socket.setNoDelay?.(true));
    server.on("secureConnection", (socket: { setNoDelay?: (v: boolean) => void }) => socket.setNoDelay?.(true));
    server.on("session", (session) => this.#onSession(session));
    server.on("stream", (stream, headers) => this.#onStream(router, stream, headers));
    const host = this.options.host ?? "127.0.0.1";
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? 50051, host, () => {
        server.off("error", reject);
        server.on("error", (err) => router.logger.error({ err }, "gRPC server error"));
        const port = (server.address() as AddressInfo).port;
        const h = host.includes(":") ? `[${host}]` : host;
        resolve({ url: `${this.options.tls ? "grpcs" : "grpc"}://${h}:${port}`, transport: "grpc" });
      });
    });
  }

  #onSession(session: Http2Session): void {
    this.#sessions.add(session);
    const socket = session.socket;
    this.#peers.set(session, `${socket.remoteAddress}:${socket.remotePort}`);
    session.on("error", () => undefined);
    session.once("close", () => this.#sessions.delete(session));
    if (this.#draining) session.close();
  }

  #onStream(router: Router, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    if (headers[":method"] !== "POST") return respondHttp(stream, 405);
    const contentType = headers["content-type"];
    if (contentType === undefined || !(contentType === "application/grpc" || contentType.startsWith("application/grpc+") || contentType.startsWith("application/grpc;"))) {
      return respondHttp(stream, 415);
    }
    if (contentType.startsWith("application/grpc+") && !contentType.startsWith("application/grpc+proto")) {
      return sendTrailersOnly(stream, new FerryError(Code.INTERNAL, `unsupported content type ${contentType}`));
    }
    const path = headers[":path"] ?? "";
    const entry = router.lookup(path);
    if (entry === undefined) return sendTrailersOnly(stream, router.unknownPathError(path));
    const encoding = (headers["grpc-encoding"] as string | undefined)?.toLowerCase() ?? "identity";
    if (!isGrpcCompression(encoding)) {
      // gRPC doc/compression.md: UNIMPLEMENTED, with grpc-accept-encoding (sent on every response) listing what is supported.
      return sendTrailersOnly(stream, new FerryError(Code.UNIMPLEMENTED, `unsupported grpc-encoding "${encoding}" (supported: ${SUPPORTED_COMPRESSIONS.join(", ")})`));
    }
    let deadline: number | undefined;
    const timeout = headers["grpc-timeout"] as string | undefined;
    if (timeout !== undefined) {
      const ms = parseGrpcTimeout(timeout);
      if (ms === undefined) return sendTrailersOnly(stream, new FerryError(Code.INTERNAL, `invalid grpc-timeout "${timeout}"`));
      deadline = Date.now() + ms;
    }
    const ctx = new CallContext({
      method: entry.info,
      requestMetadata: readMetadata(headers),
      deadline,
      peer: this.#peers.get(stream.session as Http2Session) ?? "unknown",
      transport: "grpc",
    });
    const compression = { requestEncoding: encoding, acceptEncodings: parseAcceptEncoding(headers["grpc-accept-encoding"]), sendCompression: this.#sendCompression };
    new GrpcServerCall(router, entry, stream, ctx, compression).start();
  }

  setSecureContext(options: SecureContextOptions): void {
    const server = this.#server;
    if (server === undefined || !this.options.tls) throw new FerryError(Code.FAILED_PRECONDITION, "setSecureContext needs a started server with tls options");
    (server as Http2SecureServer).setSecureContext(options);
  }

  async shutdown(graceMs: number): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of this.#sessions) session.close();
    const timer = setTimeout(() => {
      for (const session of this.#sessions) session.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }
}

function respondHttp(stream: ServerHttp2Stream, status: number): void {
  try {
    stream.respond({ ":status": status }, { endStream: true });
  } catch {
    // reset by the peer meanwhile
  }
}
