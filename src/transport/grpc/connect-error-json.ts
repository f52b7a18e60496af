import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { Code, codeToString } from "../../rpc/code.js";
import type { FerryError } from "../../rpc/ferry-error.js";
import { isBinaryKey, type Metadata } from "../../rpc/metadata.js";
import { isCustomMetadataKey } from "./grpc-headers.js";

/** Connect's spelling of a code: lower snake case, but "canceled" (connectrpc.com/docs/protocol, "Error Codes"). */
export function connectCode(code: Code): string {
  return code === Code.CANCELLED ? "canceled" : codeToString(code);
}

/**
 * The Connect error JSON object (connectrpc.com/docs/protocol, "Error
 * End-Stream" and unary error bodies): `{"code": "not_found", "message":
 * "…", "details": [{"type": "google.rpc.RetryInfo", "value": "<base64>"}]}`;
 * `message` and `details` only when present, `value` base64 without padding.
 */
export function connectErrorJson(error: FerryError): Record<string, unknown> {
  const body: Record<string, unknown> = { code: connectCode(error.code) };
  if (error.rawMessage !== "") body.message = error.rawMessage;
  if (error.details.length > 0) {
    body.details = error.details.map((d) => ({ type: d.typeUrl.slice(d.typeUrl.lastIndexOf("/") + 1), value: Buffer.from(d.value).toString("base64").replace(/=+$/, "") }));
  }
  return body;
}

/**
 * The JSON of a Connect streaming response's end-stream message:
 * `{"error": {…}, "metadata": {"key": ["value", …]}}`, both optional. The
 * metadata are the trailers (the error's metadata included); `-bin` values
 * base64-encoded, as in headers.
 */
export function connectEndStreamJson(error: FerryError | undefined, trailers: Metadata): Buffer {
  const out: Record<string, unknown> = {};
  if (error !== undefined) out.error = connectErrorJson(error);
  const metadata: Record<string, string[]> = {};
  for (const md of error === undefined ? [trailers] : [trailers, error.metadata]) {
    for (const key of md.keys()) {
      if (!isCustomMetadataKey(key)) continue;
      const bin = isBinaryKey(key);
      const values = md.getAll(key).map((v) => (bin ? Buffer.from(v as Uint8Array).toString("base64") : (v as string)));
      (metadata[key] ??= []).push(...values);
    }
  }
  if (Object.keys(metadata).length > 0) out.metadata = metadata;
  return Buffer.from(JSON.stringify(out));
}

/** Prefixes `trailer-` to each custom metadata key (Connect unary responses carry trailers as `Trailer-*` headers). */
export function writeConnectUnaryTrailers(headers: OutgoingHttpHeaders, trailers: OutgoingHttpHeaders): void {
  for (const [k, v] of Object.entries(trailers)) headers[`trailer-${k}`] = v;
}

/** HTTP, Connect, gRPC-Web and CORS request headers that are not metadata. */
const protocolHeaders = new Set(["accept", "transfer-encoding", "expect", "keep-alive", "upgrade", "proxy-connection", "origin", "referer", "x-grpc-web", "x-user-agent"]);

/** The request headers that are custom metadata on the Connect and gRPC-Web protocols. */
export function webCustomHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith("connect-") && !k.startsWith("access-control-") && !k.startsWith("sec-") && !protocolHeaders.has(k)) out[k] = v;
  }
  return out;
}
