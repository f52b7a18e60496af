import type { JsonValue } from "@bufbuild/protobuf";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { decodeBinary, decodeJson, encodeBinary, encodeJson } from "../../contract/codec.js";
import type { UnaryResponse } from "../../rpc/call.js";
import { CallContext } from "../../rpc/call-context.js";
import { Code, codeToString } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { httpStatusFromCode } from "../../rpc/http-status.js";
import type { Metadata } from "../../rpc/metadata.js";
import type { MethodEntry, Router } from "../../rpc/router.js";
import { createServerRequest } from "../../rpc/server-request.js";
import type { ConnectExchange } from "./connect-exchange.js";
import { decompressMessage } from "./grpc-compression.js";
import { readMetadata, writeMetadata } from "./grpc-headers.js";
import { peerCertificate } from "../peer-certificate.js";
import { CorsPolicy } from "../../util/cors.js";

/** Content types of Connect unary requests (connectrpc.com/docs/protocol). */
export function isConnectContentType(contentType: string | undefined): boolean {
  const base = contentType?.split(";")[0].trim().toLowerCase();
  return base === "application/json" || base === "application/proto";
}

/**
 * Serves one Connect unary call (connectrpc.com/docs/protocol, "Unary
 * Request" and "Unary Response"): `POST /pkg.Service/Method` with a JSON
 * (`application/json`) or binary (`application/proto`) body, optional
 * `Content-Encoding: gzip`, deadline from `Connect-Timeout-Ms`, custom
 * headers as metadata. Success: 200 with the message; trailers as
 * `trailer-` headers. Errors: the code's HTTP status and the Connect JSON
 * error body `{"code": "not_found", "message": "…", "details": […]}`.
 *
 * With `cors`, preflights (`OPTIONS`) are answered (204, or 403 naming what
 * is not allowed) and every answer carries the CORS headers (Fetch standard).
 */
export async function serveConnectUnary(router: Router, exchange: ConnectExchange, cors?: CorsPolicy): Promise<void> {
  let ex = exchange;
  if (cors !== undefined) {
    if (CorsPolicy.isPreflight(ex.method, ex.headers)) {
      try {
        return ex.respond(204, cors.preflightHeaders(ex.headers), Buffer.alloc(0));
      } catch (err) {
        return sendError(ex, router.toWireError(err, undefined), undefined); // 403, without CORS headers
      }
    }
    ex = withHeaders(ex, cors.responseHeaders(ex.headers));
  }
  const json = ex.headers["content-type"]?.toLowerCase().startsWith("application/json") === true;
  let ctx: CallContext | undefined;
  try {
    if (ex.method !== "POST") return sendError(ex, new FerryError(Code.UNIMPLEMENTED, `Connect unary calls use POST, got ${ex.method}`), undefined, 405);
    const entry = router.lookup(ex.path.split("?")[0]);
    if (entry === undefined) return sendError(ex, router.unknownPathError(ex.path), undefined, 404);
    if (entry.info.requestStream || entry.info.responseStream) {
      return sendError(ex, new FerryError(Code.UNIMPLEMENTED, `${entry.info.path} is a streaming method; call it over gRPC (Connect streaming is not served)`), undefined, 415);
    }
    ctx = new CallContext({ method: entry.info, requestMetadata: readMetadata(customHeaders(ex)), deadline: deadlineOf(ex), peer: ex.peer, transport: "connect" });
    const cert = ex.peerCertificate;
    if (cert !== undefined) ctx.values.set(peerCertificate, cert);
    const message = await readMessage(router, entry, ex, json);
    const res = await dispatch(router, entry, ctx, message, ex);
    const body = json ? Buffer.from(JSON.stringify(encodeJson(entry.info.output, res.message))) : Buffer.from(encodeBinary(entry.info.output, res.message));
    const headers: OutgoingHttpHeaders = { "content-type": json ? "application/json" : "application/proto" };
    writeMetadata(headers, res.headers);
    writeTrailers(headers, res.trailers);
    ex.respond(200, headers, body);
  } catch (err) {
    sendError(ex, router.toWireError(err, ctx), ctx, tooLarge.has(err as object) ? 413 : undefined);
  }
}

/** Errors for a request body over the limit: answered 413 (Content Too Large) rather than RESOURCE_EXHAUSTED's 429, which would invite a retry of the same body. */
const tooLarge = new WeakSet<object>();

/** `ex` answering with `extra` headers too (the CORS headers of an actual response, errors included). */
function withHeaders(ex: ConnectExchange, extra: OutgoingHttpHeaders): ConnectExchange {
  const wrapped = Object.create(ex) as ConnectExchange & { respond: ConnectExchange["respond"] };
  wrapped.respond = (status, headers, body) => ex.respond(status, { ...extra, ...headers }, body);
  return wrapped;
}

/** HTTP and Connect protocol headers are not metadata. */
const protocolHeaders = new Set(["accept", "transfer-encoding", "expect", "keep-alive", "upgrade", "proxy-connection", "origin", "referer"]);

function customHeaders(ex: ConnectExchange): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(ex.headers)) if (!k.startsWith("connect-") && !protocolHeaders.has(k)) out[k] = v;
  return out;
}

function deadlineOf(ex: ConnectExchange): number | undefined {
  const raw = ex.headers["connect-timeout-ms"];
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^[0-9]{1,10}$/.test(raw)) {
    throw new FerryError(Code.INVALID_ARGUMENT, `invalid connect-timeout-ms "${String(raw)}": expected 1 to 10 digits`);
  }
  return Date.now() + Number(raw);
}

async function readMessage(router: Router, entry: MethodEntry, ex: ConnectExchange, json: boolean) {
  const max = router.options.maxReceiveMessageBytes;
  const encoding = (ex.headers["content-encoding"] as string | undefined)?.toLowerCase() ?? "identity";
  if (encoding !== "identity" && encoding !== "gzip") {
    throw new FerryError(Code.UNIMPLEMENTED, `unsupported content-encoding "${encoding}" (supported: gzip, identity)`);
  }
  let body: Uint8Array;
  try {
    body = await ex.readBody(max);
    if (encoding === "gzip") body = decompressMessage("gzip", body, max);
  } catch (err) {
    if (err instanceof FerryError && err.code === Code.RESOURCE_EXHAUSTED) tooLarge.add(err);
    throw err;
  }
  if (!json) return decodeBinary(entry.info.input, body);
  let parsed: JsonValue;
  try {
    parsed = body.byteLength === 0 ? {} : (JSON.parse(Buffer.from(body).toString("utf8")) as JsonValue);
  } catch (err) {
    throw new FerryError(Code.INVALID_ARGUMENT, `request body is not valid JSON: ${(err as Error).message}`);
  }
  return decodeJson(entry.info.input, parsed);
}

/** Runs the handler; the deadline or the client going away cancels it. */
function dispatch(router: Router, entry: MethodEntry, ctx: CallContext, message: ReturnType<typeof decodeBinary>, ex: ConnectExchange): Promise<UnaryResponse> {
  return new Promise<UnaryResponse>((resolve, reject) => {
    ctx.arm((reason) => reject(reason));
    ex.onAbort(() => ctx.abort(new FerryError(Code.CANCELLED, "call cancelled by the client")));
    router.dispatch(entry, createServerRequest(ctx, message)).then((r) => resolve(r as UnaryResponse), reject);
  }).finally(() => ctx.finish());
}

function writeTrailers(headers: OutgoingHttpHeaders, trailers: Metadata): void {
  const t: OutgoingHttpHeaders = {};
  writeMetadata(t, trailers);
  for (const [k, v] of Object.entries(t)) headers[`trailer-${k}`] = v;
}

/** Connect's spelling of a code: lower snake case, but "canceled". */
export function connectCode(code: Code): string {
  return code === Code.CANCELLED ? "canceled" : codeToString(code);
}

function sendError(ex: ConnectExchange, error: FerryError, ctx: CallContext | undefined, httpStatus?: number): void {
  const headers: OutgoingHttpHeaders = { "content-type": "application/json" };
  if (ctx) writeMetadata(headers, ctx.responseHeaders);
  writeMetadata(headers, error.metadata);
  if (ctx) writeTrailers(headers, ctx.responseTrailers);
  // A server rate limit's pushback (gRFC A6) as HTTP's Retry-After, in whole seconds (RFC 6585 §4, RFC 9110 §10.2.3).
  const pushback = error.code === Code.RESOURCE_EXHAUSTED ? error.metadata.getText("grpc-retry-pushback-ms") : undefined;
  if (pushback !== undefined && /^[0-9]{1,10}$/.test(pushback)) headers["retry-after"] = String(Math.max(1, Math.ceil(Number(pushback) / 1000)));
  const body: Record<string, unknown> = { code: connectCode(error.code) };
  if (error.rawMessage !== "") body.message = error.rawMessage;
  if (error.details.length > 0) {
    body.details = error.details.map((d) => ({ type: d.typeUrl.slice(d.typeUrl.lastIndexOf("/") + 1), value: Buffer.from(d.value).toString("base64").replace(/=+$/, "") }));
  }
  ex.respond(httpStatus ?? httpStatusFromCode(error.code), headers, Buffer.from(JSON.stringify(body)));
}
