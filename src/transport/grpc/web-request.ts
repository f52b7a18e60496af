import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { CallContext } from "../../rpc/call-context.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { MethodEntry, Router } from "../../rpc/router.js";
import { CorsPolicy, type CorsOptions } from "../../util/cors.js";
import { peerCertificate } from "../peer-certificate.js";
import type { ConnectExchange } from "./connect-exchange.js";
import { webCustomHeaders } from "./connect-error-json.js";
import { isConnectContentType, sendConnectError, serveConnectUnary } from "./connect-handler.js";
import { readMetadata } from "./grpc-headers.js";
import { WebStreamCall } from "./web-stream-call.js";
import { connectDeadline, webStreamProtocol, type WebStreamProtocol } from "./web-stream-protocol.js";

/** How the gRPC port serves the browser-facing protocols (Connect, gRPC-Web). */
export interface WebProtocolSettings {
  /** CORS for browsers; `undefined` answers preflights 405. */
  readonly cors: CorsPolicy | undefined;
  /** Response messages at least this large are compressed when the client accepts an encoding, in bytes. */
  readonly compressMinBytes: number;
}

/** Default of `webCompressMinBytes`: 1 KiB, Connect-ES's `compressMinBytes`. */
export const DEFAULT_WEB_COMPRESS_MIN_BYTES = 1024;

/**
 * The CORS policy of the gRPC port: the user's options plus the request
 * headers the Connect and gRPC-Web protocols send and the response headers
 * their clients read (as Connect-ES's `cors` constants list them), so a
 * browser can call with any of the protocols once its origin is allowed.
 */
export function webCorsPolicy(options: CorsOptions): CorsPolicy {
  const allowed = options.allowedHeaders ?? ["authorization", "content-type", "x-request-id", "traceparent", "tracestate"];
  const exposed = options.exposedHeaders ?? ["www-authenticate", "retry-after", "x-request-id"];
  return new CorsPolicy({
    ...options,
    methods: options.methods ?? ["GET", "POST"],
    allowedHeaders: [...new Set([...allowed, "content-type", "connect-protocol-version", "connect-timeout-ms", "connect-content-encoding", "connect-accept-encoding", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "x-grpc-web", "x-user-agent"])],
    exposedHeaders: [...new Set([...exposed, "grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-encoding", "connect-content-encoding"])],
  });
}

/**
 * True for an HTTP/2 request that is not gRPC but one of the web protocols
 * (a Connect unary or streaming call, a Connect GET, gRPC-Web, a CORS
 * preflight). Plain `application/grpc` is ruled out first, so the gRPC path
 * pays one string comparison.
 */
export function isWebRequest(headers: IncomingHttpHeaders): boolean {
  const ct = headers["content-type"];
  if (ct === "application/grpc") return false;
  if (headers[":method"] !== "POST") return headers[":method"] === "GET" || headers[":method"] === "OPTIONS";
  if (ct === undefined) return false;
  const base = ct.toLowerCase();
  return isConnectContentType(base) || base.startsWith("application/connect+") || base.startsWith("application/grpc-web");
}

/**
 * Serves one request of the web protocols on the gRPC port, over HTTP/1.1
 * or HTTP/2: CORS preflights, Connect unary (POST, and GET for
 * `NO_SIDE_EFFECTS` methods), Connect streaming and gRPC-Web (binary and
 * text). Anything else is answered 405 (another HTTP method, with `Allow`)
 * or 415 (another content type), with a Connect JSON error body.
 */
export async function serveWebRequest(router: Router, exchange: ConnectExchange, settings: WebProtocolSettings): Promise<void> {
  const { cors } = settings;
  let ex = exchange;
  if (cors !== undefined) {
    if (CorsPolicy.isPreflight(ex.method, ex.headers)) {
      try {
        return ex.respond(204, cors.preflightHeaders(ex.headers), Buffer.alloc(0));
      } catch (err) {
        return sendConnectError(ex, router.toWireError(err, undefined), undefined); // 403, without CORS headers
      }
    }
    ex = withHeaders(ex, cors.responseHeaders(ex.headers));
  }
  try {
    const path = ex.path.split("?")[0];
    if (ex.method !== "POST" && ex.method !== "GET") throw refused(Code.UNIMPLEMENTED, `method ${ex.method.slice(0, 16)} is not allowed (Connect and gRPC-Web use POST; Connect GET for methods without side effects)`, 405, { allow: "GET, POST" });
    const base = (ex.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (ex.method === "GET" || isConnectContentType(base)) return await serveUnary(router, ex, path, settings);
    let protocol: WebStreamProtocol | undefined;
    try {
      protocol = webStreamProtocol(base);
    } catch (err) {
      throw refused(Code.UNIMPLEMENTED, (err as FerryError).rawMessage, 415);
    }
    if (protocol === undefined) throw refused(Code.UNIMPLEMENTED, `unsupported content type "${base.slice(0, 64)}" (Connect: application/json, application/proto, application/connect+json|proto; gRPC-Web: application/grpc-web[-text][+proto|+json])`, 415);
    await serveStream(router, ex, path, protocol, settings);
  } catch (err) {
    sendConnectError(ex, router.toWireError(err, undefined), undefined, (err as { httpStatus?: number }).httpStatus);
  }
}

async function serveUnary(router: Router, ex: ConnectExchange, path: string, settings: WebProtocolSettings): Promise<void> {
  const entry = router.lookup(path);
  if (entry === undefined) throw refused(Code.UNIMPLEMENTED, router.unknownPathError(path).rawMessage, 404);
  if (entry.info.requestStream || entry.info.responseStream) {
    const kind = entry.info.kind.replace("_", " ");
    throw refused(Code.UNIMPLEMENTED, `${entry.info.path} is a ${kind} method: call it with a streaming content type (application/connect+json or application/connect+proto)`, 415);
  }
  const ctx = createWebContext(entry, ex, connectDeadline(ex.headers["connect-timeout-ms"]), "connect");
  await serveConnectUnary(router, entry, ctx, ex, settings.compressMinBytes);
}

async function serveStream(router: Router, ex: ConnectExchange, path: string, protocol: WebStreamProtocol, settings: WebProtocolSettings): Promise<void> {
  const entry = router.lookup(path);
  const failEarly = (error: FerryError) => {
    ex.writeHead(200, protocol.responseHeaders("identity", emptyMetadata()));
    ex.end(protocol.text ? Buffer.from(protocol.endFrame(error, emptyMetadata()).toString("base64"), "latin1") : protocol.endFrame(error, emptyMetadata()));
    ex.source.resume();
  };
  if (entry === undefined) return failEarly(router.unknownPathError(path));
  let ctx: CallContext;
  let encoding;
  try {
    encoding = { request: protocol.requestEncoding(ex.headers), response: protocol.responseEncoding(ex.headers), compressMinBytes: settings.compressMinBytes };
    ctx = createWebContext(entry, ex, protocol.deadline(ex.headers), protocol.transport);
  } catch (err) {
    return failEarly(router.toWireError(err, undefined));
  }
  await new WebStreamCall(router, entry, ex, ctx, protocol, encoding).run();
}

function emptyMetadata(): CallContext["responseHeaders"] {
  return readMetadata({});
}

function createWebContext(entry: MethodEntry, ex: ConnectExchange, deadline: number | undefined, transport: string): CallContext {
  const ctx = new CallContext({ method: entry.info, requestMetadata: readMetadata(webCustomHeaders(ex.headers)), deadline, peer: ex.peer, transport });
  const cert = ex.peerCertificate;
  if (cert !== undefined) ctx.values.set(peerCertificate, cert);
  return ctx;
}

/** An error answered with a given HTTP status (415, 405, 404) rather than its code's. */
function refused(code: Code, message: string, httpStatus: number, metadata?: Record<string, string>): FerryError {
  return Object.assign(new FerryError(code, message, { metadata }), { httpStatus });
}

/** `ex` answering with `extra` headers too (the CORS headers of an actual response, errors included). */
function withHeaders(ex: ConnectExchange, extra: OutgoingHttpHeaders): ConnectExchange {
  const wrapped = Object.create(ex) as ConnectExchange & { respond: ConnectExchange["respond"]; writeHead: ConnectExchange["writeHead"] };
  wrapped.respond = (status, headers, body) => ex.respond(status, { ...extra, ...headers }, body);
  wrapped.writeHead = (status, headers) => ex.writeHead(status, { ...extra, ...headers });
  return wrapped;
}
