import type { JsonValue, Message } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { OutgoingHttpHeaders } from "node:http2";
import { decodeBinary, decodeJson, encodeBinary, encodeJson } from "../../contract/codec.js";
import type { UnaryResponse } from "../../rpc/call.js";
import type { CallContext } from "../../rpc/call-context.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { httpStatusFromCode } from "../../rpc/http-status.js";
import type { MethodEntry, Router } from "../../rpc/router.js";
import { createServerRequest } from "../../rpc/server-request.js";
import type { ConnectExchange } from "./connect-exchange.js";
import { connectErrorJson, writeConnectUnaryTrailers } from "./connect-error-json.js";
import { writeMetadata } from "./grpc-headers.js";
import { compressWeb, decompressWeb, negotiateCompression, requestCompression, WEB_ACCEPT_ENCODING, type WebCompression } from "./web-compression.js";

/** Content types of Connect unary requests (connectrpc.com/docs/protocol). */
export function isConnectContentType(contentType: string | undefined): boolean {
  const base = contentType?.split(";")[0].trim().toLowerCase();
  return base === "application/json" || base === "application/proto";
}

/** True for a method that may be called with Connect's GET (`option idempotency_level = NO_SIDE_EFFECTS`). */
export function allowsConnectGet(entry: MethodEntry): boolean {
  return entry.info.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
}

/** The request of a Connect unary call, read from a POST body or a GET query. */
interface UnaryInput {
  readonly json: boolean;
  readonly encoding: WebCompression;
  /** The (possibly compressed) body; rejects with RESOURCE_EXHAUSTED past `maxBytes`. */
  readonly body: (maxBytes: number) => Promise<Uint8Array>;
}

/**
 * Serves one Connect unary call (connectrpc.com/docs/protocol, "Unary
 * Request" and "Unary Response") on a method `entry` with context `ctx`:
 *
 * - `POST` with a JSON (`application/json`) or binary (`application/proto`)
 *   body, optionally compressed (`Content-Encoding`: gzip, br, deflate);
 * - `GET` for methods declared `idempotency_level = NO_SIDE_EFFECTS`, the
 *   request in the query: `message` (JSON text, or base64url with
 *   `base64=1`), `encoding` (`json` or `proto`), `compression`,
 *   `connect=v1`. Other methods answer 405 with `Allow: POST`.
 *
 * Success: 200 with the message, compressed with the first encoding the
 * client's `Accept-Encoding` lists when it is at least `compressMinBytes`;
 * trailers as `trailer-` headers. Errors: the code's HTTP status and the
 * Connect JSON error body (see {@link connectErrorJson}).
 */
export async function serveConnectUnary(router: Router, entry: MethodEntry, ctx: CallContext, ex: ConnectExchange, compressMinBytes: number): Promise<void> {
  try {
    const input = ex.method === "GET" ? getInput(entry, ex) : postInput(ex);
    const message = await readMessage(router, entry, input);
    const res = await dispatch(router, entry, ctx, message, ex);
    const raw = input.json ? Buffer.from(JSON.stringify(encodeJson(entry.info.output, res.message))) : Buffer.from(encodeBinary(entry.info.output, res.message));
    const headers: OutgoingHttpHeaders = { "content-type": input.json ? "application/json" : "application/proto", "accept-encoding": WEB_ACCEPT_ENCODING };
    const encoding = raw.byteLength >= compressMinBytes ? negotiateCompression(ex.headers["accept-encoding"]) : "identity";
    if (encoding !== "identity") headers["content-encoding"] = encoding;
    writeMetadata(headers, res.headers);
    writeUnaryTrailers(headers, res.trailers);
    ex.respond(200, headers, encoding === "identity" ? raw : compressWeb(encoding, raw));
  } catch (err) {
    sendConnectError(ex, router.toWireError(err, ctx), ctx, tooLarge.has(err as object) ? 413 : undefined);
  }
}

/** Errors for a request body over the limit: answered 413 (Content Too Large) rather than RESOURCE_EXHAUSTED's 429, which would invite a retry of the same body. */
const tooLarge = new WeakSet<object>();

function postInput(ex: ConnectExchange): UnaryInput {
  const json = ex.headers["content-type"]?.toLowerCase().startsWith("application/json") === true;
  const encoding = requestCompression(ex.headers["content-encoding"]);
  return { json, encoding, body: (max) => ex.readBody(max) };
}

/** The query of a Connect GET request ("Unary-Get-Request"). */
function getInput(entry: MethodEntry, ex: ConnectExchange): UnaryInput {
  if (!allowsConnectGet(entry)) {
    throw new FerryError(Code.UNIMPLEMENTED, `${entry.info.path} is not declared idempotency_level = NO_SIDE_EFFECTS; call it with POST`, { metadata: { allow: "POST" } });
  }
  const query = new URLSearchParams(ex.path.slice(ex.path.indexOf("?") + 1));
  const format = query.get("encoding");
  if (format !== "json" && format !== "proto") throw new FerryError(Code.INVALID_ARGUMENT, `Connect GET needs encoding=json or encoding=proto, got ${format === null ? "none" : `"${format.slice(0, 16)}"`}`);
  const connect = query.get("connect");
  if (connect !== null && connect !== "v1") throw new FerryError(Code.INVALID_ARGUMENT, `unsupported Connect protocol version "${connect.slice(0, 16)}" (supported: v1)`);
  const encoding = requestCompression(query.get("compression") ?? undefined);
  const text = query.get("message") ?? "";
  const base64 = query.get("base64") === "1";
  const body = base64 ? Buffer.from(text, "base64url") : Buffer.from(text, format === "json" ? "utf8" : "latin1");
  const tooBig = (max: number) => new FerryError(Code.RESOURCE_EXHAUSTED, `request message exceeds the limit of ${max} bytes`);
  return { json: format === "json", encoding, body: (max) => (body.byteLength > max ? Promise.reject(tooBig(max)) : Promise.resolve(body)) };
}

async function readMessage(router: Router, entry: MethodEntry, input: UnaryInput): Promise<Message> {
  const max = router.options.maxReceiveMessageBytes;
  let body: Uint8Array;
  try {
    body = await input.body(max);
    body = decompressWeb(input.encoding, body, max);
  } catch (err) {
    if (err instanceof FerryError && err.code === Code.RESOURCE_EXHAUSTED) tooLarge.add(err);
    throw err;
  }
  if (!input.json) return decodeBinary(entry.info.input, body);
  let parsed: JsonValue;
  try {
    parsed = body.byteLength === 0 ? {} : (JSON.parse(Buffer.from(body).toString("utf8")) as JsonValue);
  } catch (err) {
    throw new FerryError(Code.INVALID_ARGUMENT, `request body is not valid JSON: ${(err as Error).message}`);
  }
  return decodeJson(entry.info.input, parsed);
}

/** Runs the handler; the deadline or the client going away cancels it. */
function dispatch(router: Router, entry: MethodEntry, ctx: CallContext, message: Message, ex: ConnectExchange): Promise<UnaryResponse> {
  return new Promise<UnaryResponse>((resolve, reject) => {
    ctx.arm((reason) => reject(reason));
    ex.onAbort(() => ctx.abort(new FerryError(Code.CANCELLED, "call cancelled by the client")));
    router.dispatch(entry, createServerRequest(ctx, message)).then((r) => resolve(r as UnaryResponse), reject);
  }).finally(() => ctx.finish());
}

function writeUnaryTrailers(headers: OutgoingHttpHeaders, trailers: CallContext["responseTrailers"]): void {
  const t: OutgoingHttpHeaders = {};
  writeMetadata(t, trailers);
  writeConnectUnaryTrailers(headers, t);
}

/**
 * Answers a Connect unary call (or a request refused before it became one)
 * with `error`: the code's HTTP status (or `httpStatus`), the Connect JSON
 * error body, the call's headers and trailers, `Allow` for 405 and
 * `Retry-After` for a rate limit's pushback.
 */
export function sendConnectError(ex: ConnectExchange, error: FerryError, ctx: CallContext | undefined, httpStatus?: number): void {
  const headers: OutgoingHttpHeaders = { "content-type": "application/json" };
  if (ctx) writeMetadata(headers, ctx.responseHeaders);
  writeMetadata(headers, error.metadata);
  if (ctx) writeUnaryTrailers(headers, ctx.responseTrailers);
  // A server rate limit's pushback (gRFC A6) as HTTP's Retry-After, in whole seconds (RFC 6585 §4, RFC 9110 §10.2.3).
  const pushback = error.code === Code.RESOURCE_EXHAUSTED ? error.metadata.getText("grpc-retry-pushback-ms") : undefined;
  if (pushback !== undefined && /^[0-9]{1,10}$/.test(pushback)) headers["retry-after"] = String(Math.max(1, Math.ceil(Number(pushback) / 1000)));
  let status = httpStatus ?? httpStatusFromCode(error.code);
  if (error.metadata.getText("allow") !== undefined && error.code === Code.UNIMPLEMENTED) status = 405;
  ex.respond(status, headers, Buffer.from(JSON.stringify(connectErrorJson(error))));
}
