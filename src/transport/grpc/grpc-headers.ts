import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { Code, codeFromNumber } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { isBinaryKey, Metadata } from "../../rpc/metadata.js";

/**
 * Headers that belong to HTTP/2 or to the gRPC protocol and are never
 * custom metadata (gRPC PROTOCOL-HTTP2). Keys starting with `grpc-` and
 * `:` are reserved as well. (`date` is added by node:http2 to every response.)
 */
const reserved = new Set(["content-type", "te", "user-agent", "date", "content-length", "host", "connection", "accept-encoding", "content-encoding"]);

/** True when `key` may be sent or surfaced as custom metadata. */
export function isCustomMetadataKey(key: string): boolean {
  if (key === "grpc-retry-pushback-ms") return true; // a trailer the application sets (gRFC A6 server pushback)
  return !(key.charCodeAt(0) === 58 /* : */ || key.startsWith("grpc-") || reserved.has(key));
}

/** Copies custom metadata into an outgoing HTTP/2 header block; `-bin` values base64-encoded (padding included). */
export function writeMetadata(headers: OutgoingHttpHeaders, metadata: Metadata): void {
  if (metadata.size === 0) return;
  for (const key of metadata.keys()) {
    if (!isCustomMetadataKey(key)) continue;
    const values = metadata.getAll(key);
    const bin = isBinaryKey(key);
    const encoded = values.map((v) => (bin ? Buffer.from(v as Uint8Array).toString("base64") : (v as string)));
    headers[key] = encoded.length === 1 ? encoded[0] : encoded;
  }
}

/**
 * Reads custom metadata from a received HTTP/2 header block. `-bin` values
 * are base64-decoded (padded or not; several values may arrive comma-joined).
 */
export function readMetadata(headers: IncomingHttpHeaders): Metadata {
  const md = new Metadata();
  for (const key in headers) {
    if (!isCustomMetadataKey(key)) continue;
    const raw = headers[key];
    if (raw === undefined) continue;
    const values = Array.isArray(raw) ? raw : [raw];
    if (isBinaryKey(key)) {
      for (const v of values) for (const part of v.split(",")) md.appendTrusted(key, new Uint8Array(Buffer.from(part.trim(), "base64")));
    } else {
      for (const v of values) md.appendTrusted(key, v);
    }
  }
  return md;
}

/**
 * Percent-encodes a status message for `grpc-message` (gRPC PROTOCOL-HTTP2:
 * UTF-8 bytes outside 0x20–0x7E, and `%` itself, become `%XX`).
 */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  const bytes = Buffer.from(message, "utf8");
  let out = "";
  for (const b of bytes) out += b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b);
  return out;
}

/** Decodes `grpc-message`; malformed escapes are kept as they are, as the spec asks. */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length + 0 && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The trailer block of an OK status without metadata, shared (node:http2 copies what it sends). */
const okTrailers: OutgoingHttpHeaders = Object.freeze({ "grpc-status": "0" });

/**
 * The trailer block for a status: `grpc-status`, `grpc-message` and, when the
 * error has details, `grpc-status-details-bin` (a google.rpc.Status), plus the
 * error's or the handler's trailers.
 */
export function statusTrailers(error: FerryError | undefined, trailers: Metadata): OutgoingHttpHeaders {
  if (error === undefined && trailers.size === 0) return okTrailers;
  const out: OutgoingHttpHeaders = {};
  writeMetadata(out, trailers);
  if (error === undefined) {
    out["grpc-status"] = "0";
    return out;
  }
  writeMetadata(out, error.metadata);
  out["grpc-status"] = String(error.code);
  if (error.rawMessage !== "") out["grpc-message"] = encodeGrpcMessage(error.rawMessage);
  if (error.details.length > 0) {
    const status = create(StatusSchema, { code: error.code, message: error.rawMessage, details: error.details });
    out["grpc-status-details-bin"] = Buffer.from(toBinary(StatusSchema, status)).toString("base64");
  }
  return out;
}

/**
 * The error a status block stands for, or `undefined` for OK. A missing or
 * non-numeric `grpc-status` is UNKNOWN (gRPC: "unparseable status").
 */
export function errorFromStatus(headers: IncomingHttpHeaders, trailers: Metadata): FerryError | undefined {
  const raw = headers["grpc-status"];
  const code = raw === undefined ? Code.UNKNOWN : codeFromNumber(Number(raw));
  if (code === Code.OK) return undefined;
  const message = typeof headers["grpc-message"] === "string" ? decodeGrpcMessage(headers["grpc-message"]) : "";
  let details: FerryError["details"] = [];
  const detailsBin = headers["grpc-status-details-bin"];
  if (typeof detailsBin === "string") {
    try {
      details = fromBinary(StatusSchema, Buffer.from(detailsBin, "base64")).details;
    } catch {
      details = [];
    }
  }
  return new FerryError(code, raw === undefined ? "response has no grpc-status" : message, { metadata: trailers, details });
}
