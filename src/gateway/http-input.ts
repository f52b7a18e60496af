import type { IncomingMessage } from "node:http";
import zlib from "node:zlib";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** Longest piece of request input quoted in an error message, in characters. */
export const MAX_QUOTED_INPUT_CHARS = 64;

/** Quotes request input for an error message: non-printable characters as `?`, at most 64 characters, then the full length. */
export function quoteInput(value: string, max = MAX_QUOTED_INPUT_CHARS): string {
  const clean = value.length > max * 4 ? value.slice(0, max * 4) : value;
  const printable = clean.replace(/[^\x20-\x7e]/g, "?");
  return value.length > max ? `"${printable.slice(0, max)}"... (${value.length} characters)` : `"${printable}"`;
}

/** Cuts a message to `maxChars`, saying how much was left out. */
export function boundMessage(message: string, maxChars: number): string {
  return message.length <= maxChars ? message : `${message.slice(0, maxChars)}... (${message.length - maxChars} more characters)`;
}

/** A request refused with an HTTP status that no status code maps to (405, 413, 414, 415, 431); `metadata` becomes response headers where the status calls for them (`allow`). */
export class HttpInputError extends FerryError {
  constructor(
    code: Code,
    message: string,
    readonly httpStatus: number,
    metadata?: Record<string, string>,
  ) {
    super(code, message, { metadata });
  }

  /** Narrower than FerryError's brand check, which every FerryError passes. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return FerryError[Symbol.hasInstance](value) && typeof (value as { httpStatus?: unknown }).httpStatus === "number";
  }
}

/** Checks the request target: its length, bytes outside printable ASCII, and percent-escapes (RFC 3986 §2.1) that are malformed or not UTF-8. */
export function checkRequestTarget(url: string, maxUrlBytes: number): void {
  if (url.length > maxUrlBytes) throw new HttpInputError(Code.INVALID_ARGUMENT, `request URL of ${url.length} bytes exceeds the limit of ${maxUrlBytes} bytes`, 414);
  // node:http hands non-ASCII request-line bytes over as latin1 characters.
  if (/[^\x21-\x7e]/.test(url)) throw new FerryError(Code.INVALID_ARGUMENT, "request URL contains bytes outside printable ASCII; percent-encode them");
  const q = url.indexOf("?");
  checkEscapes(q < 0 ? url : url.slice(0, q), "path");
  if (q >= 0) for (const pair of url.slice(q + 1).split("&")) checkEscapes(pair.replace(/\+/g, " "), "query parameter");
}

function checkEscapes(text: string, where: string): void {
  if (!text.includes("%")) return;
  if (/%(?![0-9a-fA-F]{2})/.test(text)) throw new FerryError(Code.INVALID_ARGUMENT, `invalid percent-escape in the ${where}: % must be followed by two hex digits`);
  try {
    decodeURIComponent(text);
  } catch {
    throw new FerryError(Code.INVALID_ARGUMENT, `invalid percent-escape in the ${where}: the escaped bytes are not UTF-8`);
  }
}

/** Options of {@link readRequestBody}. */
export interface ReadBodyOptions {
  /** Largest body accepted, in bytes, after decompression. */
  maxBytes: number;
}

/**
 * Reads a request body up to `maxBytes`. A declared `Content-Length` over the
 * limit is refused before reading; a body that grows past it stops being
 * buffered (the rest is discarded, never stored). `Content-Encoding: gzip`
 * (or `deflate`) bodies are decompressed with the same limit on the
 * decompressed size, as gRPC's `maxReceiveMessageBytes`.
 *
 * @throws HttpInputError RESOURCE_EXHAUSTED with HTTP 413 over the limit; UNIMPLEMENTED with 415 for another encoding; INVALID_ARGUMENT for a corrupt compressed body.
 */
export async function readRequestBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const { maxBytes } = options;
  const encoding = String(req.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip" && encoding !== "deflate") {
    throw new HttpInputError(Code.UNIMPLEMENTED, `unsupported content-encoding ${quoteInput(encoding, 32)} (supported: gzip, deflate, identity)`, 415);
  }
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) throw bodyTooLarge(maxBytes);
  const raw = await collect(req, maxBytes);
  if (encoding === "identity") return raw;
  try {
    return encoding === "gzip" ? zlib.gunzipSync(raw, { maxOutputLength: Math.max(1, maxBytes) }) : zlib.inflateSync(raw, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw new HttpInputError(Code.RESOURCE_EXHAUSTED, `decompressed request body exceeds the limit of ${maxBytes} bytes`, 413);
    throw new FerryError(Code.INVALID_ARGUMENT, `request body is not valid ${encoding}`);
  }
}

function collect(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        req.off("data", onData);
        req.resume(); // keep reading and discarding, so the 413 reaches the client before the connection closes
        reject(bodyTooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks, size)));
    req.once("error", (err) => reject(new FerryError(Code.CANCELLED, `request body not received: ${err.message}`)));
  });
}

function bodyTooLarge(maxBytes: number): HttpInputError {
  return new HttpInputError(Code.RESOURCE_EXHAUSTED, `request body exceeds the limit of ${maxBytes} bytes`, 413);
}
