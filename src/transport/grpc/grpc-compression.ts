import zlib from "node:zlib";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";

/**
 * A message encoding of gRPC's `grpc-encoding` header (gRPC
 * doc/compression.md): `identity` (none), `gzip` (RFC 1952) or `deflate`
 * (zlib format, RFC 1950, as every gRPC implementation sends it).
 */
export type GrpcCompression = "identity" | "gzip" | "deflate";

/** The encodings Ferry can decode, in the order it advertises them in `grpc-accept-encoding`. */
export const SUPPORTED_COMPRESSIONS: readonly GrpcCompression[] = Object.freeze(["gzip", "deflate", "identity"] as GrpcCompression[]);

/** The `grpc-accept-encoding` value Ferry sends: every supported encoding. */
export const ACCEPT_ENCODING_HEADER = SUPPORTED_COMPRESSIONS.join(",");

/** True when `name` is an encoding Ferry implements. */
export function isGrpcCompression(name: string): name is GrpcCompression {
  return name === "identity" || name === "gzip" || name === "deflate";
}

/** Raises INVALID_ARGUMENT unless `name` is a supported encoding; used to check options. */
export function checkCompression(name: string, option: string): GrpcCompression {
  if (!isGrpcCompression(name)) {
    throw new FerryError(Code.INVALID_ARGUMENT, `${option} must be one of ${SUPPORTED_COMPRESSIONS.join(", ")}, got "${name}"`);
  }
  return name;
}

/** The encodings named in a `grpc-accept-encoding` header (comma-separated, case-insensitive). */
export function parseAcceptEncoding(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>(["identity"]);
  if (value === undefined) return out;
  for (const v of Array.isArray(value) ? value : [value]) {
    for (const part of v.split(",")) {
      const name = part.trim().toLowerCase();
      if (name !== "") out.add(name);
    }
  }
  return out;
}

/** Compresses one message with `encoding` (not `identity`). */
export function compressMessage(encoding: GrpcCompression, bytes: Uint8Array): Buffer {
  return encoding === "gzip" ? zlib.gzipSync(bytes) : zlib.deflateSync(bytes);
}

/**
 * Decompresses one message. Output is capped at `maxBytes`: zlib stops
 * inflating once the cap is passed (`maxOutputLength`), so a decompression
 * bomb costs at most `maxBytes` of memory and fails with RESOURCE_EXHAUSTED.
 * Corrupt data fails with INTERNAL (gRPC: a message that cannot be decoded).
 */
export function decompressMessage(encoding: GrpcCompression, bytes: Uint8Array, maxBytes: number): Uint8Array {
  const opts = { maxOutputLength: Math.max(1, maxBytes) };
  try {
    const out = encoding === "gzip" ? zlib.gunzipSync(bytes, opts) : zlib.inflateSync(bytes, opts);
    if (out.byteLength > maxBytes) throw tooLarge(maxBytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    if (err instanceof FerryError) throw err;
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(maxBytes);
    throw new FerryError(Code.INTERNAL, `cannot decompress ${encoding} message: ${(err as Error).message}`, { cause: err });
  }
}

function tooLarge(maxBytes: number): FerryError {
  return new FerryError(Code.RESOURCE_EXHAUSTED, `decompressed message exceeds the limit of ${maxBytes} bytes`);
}
