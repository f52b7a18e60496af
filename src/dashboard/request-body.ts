/**
 * Reads a request body with a size limit, inflating `Content-Encoding:
 * gzip` (what OTLP exporters send with compression on) under the same limit
 * for the inflated bytes, and parses it as JSON.
 *
 * Errors (as {@link HttpError}): 413 when the body, raw or inflated, is
 * over `maxBodyBytes`; 415 for an encoding other than gzip or identity; 400
 * for a broken gzip stream or JSON that does not parse.
 */
import type { IncomingMessage } from "node:http";
import { createGunzip } from "node:zlib";
import { HttpError } from "./http-replies.js";

/** Default of `maxBodyBytes`: 4 MiB, enough for an OTLP batch of 512 large spans. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The request's body as parsed JSON. */
export async function readJsonBody(req: IncomingMessage, maxBodyBytes: number): Promise<unknown> {
  const text = (await readBody(req, maxBodyBytes)).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The request's body bytes, inflated when gzip-encoded. */
export async function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding !== "gzip" && encoding !== "identity") {
    throw new HttpError(415, `Content-Encoding "${encoding}" is not supported: send gzip or no encoding`);
  }
  const source = encoding === "gzip" ? req.pipe(createGunzip()) : req;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBodyBytes) throw tooLarge(maxBodyBytes);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof HttpError) {
      req.resume(); // drain what is left, so the answer can be read
      throw err;
    }
    throw new HttpError(400, `the body could not be read: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(maxBodyBytes: number): HttpError {
  return new HttpError(413, `the body is larger than ${maxBodyBytes} bytes (maxBodyBytes): send smaller batches`);
}
