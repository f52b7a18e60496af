import zlib from "node:zlib";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";

/**
 * A compression of the browser-facing protocols on the gRPC port: Connect
 * (`Content-Encoding` on unary calls, `Connect-Content-Encoding` per
 * streamed message) and gRPC-Web (`grpc-encoding`). `gzip` (RFC 1952) is
 * the one every Connect implementation understands; `br` (RFC 7932) is
 * what Connect-ES also offers; `deflate` (zlib format, RFC 1950) is gRPC's.
 */
export type WebCompression = "identity" | "gzip" | "br" | "deflate";

/** The encodings accepted on requests, in the order the server prefers them for responses. */
export const WEB_COMPRESSIONS: readonly WebCompression[] = Object.freeze(["gzip", "br", "deflate", "identity"] as WebCompression[]);

/** The value of an `Accept-Encoding`-style header listing {@link WEB_COMPRESSIONS}. */
export const WEB_ACCEPT_ENCODING = WEB_COMPRESSIONS.join(",");

/** True when `name` is one of {@link WEB_COMPRESSIONS}. */
export function isWebCompression(name: string): name is WebCompression {
  return name === "identity" || name === "gzip" || name === "br" || name === "deflate";
}

/**
 * The request's encoding from a header value (absent means identity).
 *
 * @throws FerryError UNIMPLEMENTED naming the supported encodings (Connect protocol: "unimplemented" for an unknown encoding).
 */
export function requestCompression(value: string | string[] | undefined): WebCompression {
  const name = typeof value === "string" ? value.trim().toLowerCase() : "identity";
  if (name === "" || name === "identity") return "identity";
  if (!isWebCompression(name)) throw new FerryError(Code.UNIMPLEMENTED, `unsupported compression "${name.slice(0, 32)}" (supported: ${WEB_COMPRESSIONS.join(", ")})`);
  return name;
}

/**
 * The response encoding: the first encoding of the client's list
 * (`Accept-Encoding`, `Connect-Accept-Encoding`, `grpc-accept-encoding`;
 * comma-separated, `;q=` weights ignored except `q=0`) that the server
 * supports, else identity.
 */
export function negotiateCompression(value: string | string[] | undefined): WebCompression {
  if (value === undefined) return "identity";
  for (const v of Array.isArray(value) ? value : [value]) {
    for (const part of v.split(",")) {
      const [name, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
      if (params.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
      if (name !== "identity" && isWebCompression(name)) return name;
    }
  }
  return "identity";
}

/** Compresses `bytes` with `encoding` (not identity). */
export function compressWeb(encoding: WebCompression, bytes: Uint8Array): Buffer {
  if (encoding === "gzip") return zlib.gzipSync(bytes);
  if (encoding === "br") return zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });
  if (encoding === "deflate") return zlib.deflateSync(bytes);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decompresses `bytes`. The output is capped at `maxBytes` while inflating
 * (`maxOutputLength`), so a decompression bomb costs at most `maxBytes`.
 *
 * @throws FerryError RESOURCE_EXHAUSTED past `maxBytes`; INVALID_ARGUMENT for corrupt data.
 */
export function decompressWeb(encoding: WebCompression, bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (encoding === "identity") return bytes;
  const opts = { maxOutputLength: Math.max(1, maxBytes) };
  try {
    const out = encoding === "gzip" ? zlib.gunzipSync(bytes, opts) : encoding === "br" ? zlib.brotliDecompressSync(bytes, opts) : zlib.inflateSync(bytes, opts);
    // A plain Uint8Array, as the other decoders give: bytes fields of decoded messages are views of it.
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new FerryError(Code.RESOURCE_EXHAUSTED, `decompressed message exceeds the limit of ${maxBytes} bytes`);
    }
    throw new FerryError(Code.INVALID_ARGUMENT, `cannot decompress ${encoding} message: ${(err as Error).message}`);
  }
}
