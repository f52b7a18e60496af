import type { OutgoingHttpHeaders } from "node:http2";
import type { FerryError } from "../../rpc/ferry-error.js";
import type { Metadata } from "../../rpc/metadata.js";
import { connectEndStreamJson } from "./connect-error-json.js";
import { statusTrailers } from "./grpc-headers.js";

/** Envelope flag: the message is compressed (Connect and gRPC-Web, as gRPC). */
export const FLAG_COMPRESSED = 0x01;
/** Envelope flag of Connect's end-stream message (connectrpc.com/docs/protocol, "Streaming Response"). */
export const FLAG_CONNECT_END_STREAM = 0x02;
/** Envelope flag of gRPC-Web's trailers frame (grpc/grpc PROTOCOL-WEB.md, "Message framing"). */
export const FLAG_GRPC_WEB_TRAILERS = 0x80;

/**
 * One envelope: a flags byte, the length as a 32-bit big-endian integer and
 * the bytes, the framing Connect streaming and gRPC-Web share with gRPC.
 */
export function encodeEnvelope(flags: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.byteLength);
  out[0] = flags;
  out.writeUInt32BE(payload.byteLength, 1);
  out.set(payload, 5);
  return out;
}

/** Connect's end-stream envelope: the error (if any) and the trailers as JSON. */
export function connectEndStream(error: FerryError | undefined, trailers: Metadata): Buffer {
  return encodeEnvelope(FLAG_CONNECT_END_STREAM, connectEndStreamJson(error, trailers));
}

/**
 * gRPC-Web's trailers frame (PROTOCOL-WEB.md): the trailers gRPC sends in
 * HTTP/2 trailers (`grpc-status`, `grpc-message`,
 * `grpc-status-details-bin`, custom metadata) as HTTP/1 header lines with
 * lower-case names, in an envelope flagged 0x80.
 */
export function grpcWebTrailers(error: FerryError | undefined, trailers: Metadata): Buffer {
  const block: OutgoingHttpHeaders = statusTrailers(error, trailers);
  let text = "";
  for (const [key, value] of Object.entries(block)) {
    for (const v of Array.isArray(value) ? value : [value]) text += `${key}: ${String(v)}\r\n`;
  }
  return encodeEnvelope(FLAG_GRPC_WEB_TRAILERS, Buffer.from(text, "latin1"));
}

/**
 * Decodes `application/grpc-web-text` request bytes (base64) as they
 * arrive: whole 4-character groups are decoded, the rest kept for the next
 * chunk. A client may pad each chunk it sends (PROTOCOL-WEB.md), so padded
 * groups in the middle of the stream are decoded on their own.
 */
export class Base64StreamDecoder {
  #rest = "";

  /** The bytes of the complete groups received so far. */
  push(chunk: Buffer): Buffer {
    const text = this.#rest + chunk.toString("latin1").replace(/[\r\n\t ]/g, "");
    const whole = text.length - (text.length % 4);
    this.#rest = text.slice(whole);
    const body = text.slice(0, whole);
    if (!body.includes("=")) return Buffer.from(body, "base64");
    // Split after each run of padding: every piece is a valid base64 text on its own.
    return Buffer.concat(body.split(/(?<==)(?=[^=])/).map((piece) => Buffer.from(piece, "base64")));
  }

  /** True when bytes that do not make a whole group are left at the end. */
  get pending(): boolean {
    return this.#rest.length > 0;
  }
}
