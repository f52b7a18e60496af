import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { Code, codeFromNumber } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { isBinaryKey, Metadata } from "../../rpc/metadata.js";
import { isCustomMetadataKey } from "../grpc/grpc-headers.js";

/**
 * A malformed frame or preface: the receiver closes the connection with a
 * GOAWAY carrying `goAwayCode` and this message (docs/protocol.md,
 * "Errors").
 */
export class ProtocolError extends Error {
  override name = "ProtocolError";
  constructor(
    message: string,
    readonly goAwayCode: number = 1,
  ) {
    super(message);
  }
}

/** A bounds-checked cursor over one frame's payload. Every read past the end throws a {@link ProtocolError}. */
export class PayloadReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  #need(n: number, what: string): void {
    if (this.end - this.pos < n) throw new ProtocolError(`truncated ${what}: need ${n} bytes, ${this.end - this.pos} left`);
  }

  u8(what: string): number {
    this.#need(1, what);
    return this.buf[this.pos++];
  }

  u16(what: string): number {
    this.#need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.#need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  latin1(n: number, what: string): string {
    this.#need(n, what);
    const s = this.buf.toString("latin1", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  utf8(n: number, what: string): string {
    this.#need(n, what);
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A copy of the next `n` bytes (the frame's buffer is not kept alive by it). */
  copy(n: number, what: string): Uint8Array {
    this.#need(n, what);
    const b = Uint8Array.prototype.slice.call(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A view of the rest of the payload. */
  rest(): Buffer {
    const b = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return b;
  }
}

const keyPattern = /^[0-9a-z_.-]+$/;

/** Encoded size of a metadata block: u16 count, then per entry u16 key length, key, u32 value length, value. */
export function metadataBytes(md: Metadata): number {
  if (md.size === 0) return 2;
  let n = 2;
  for (const [k, v] of md) {
    if (!isCustomMetadataKey(k)) continue;
    n += 6 + k.length + v.length;
  }
  return n;
}

/** Writes a metadata block at `pos`; returns the position after it. Keys and text values are ASCII (Metadata checked them). */
export function writeMetadataBlock(buf: Buffer, pos: number, md: Metadata): number {
  const countAt = pos;
  pos += 2;
  let count = 0;
  if (md.size !== 0) {
    for (const [k, v] of md) {
      if (!isCustomMetadataKey(k)) continue;
      buf.writeUInt16BE(k.length, pos);
      pos += 2;
      buf.write(k, pos, "latin1");
      pos += k.length;
      buf.writeUInt32BE(v.length, pos);
      pos += 4;
      if (typeof v === "string") buf.write(v, pos, "latin1");
      else buf.set(v, pos);
      pos += v.length;
      count++;
    }
  }
  buf.writeUInt16BE(count, countAt);
  return pos;
}

/** Reads a metadata block. Raises a {@link ProtocolError} on a malformed key or value. */
export function readMetadataBlock(r: PayloadReader): Metadata {
  const md = new Metadata();
  const count = r.u16("metadata count");
  for (let i = 0; i < count; i++) {
    const key = r.latin1(r.u16("metadata key length"), "metadata key");
    if (!keyPattern.test(key)) throw new ProtocolError(`invalid metadata key ${JSON.stringify(key.slice(0, 64))}`);
    const len = r.u32("metadata value length");
    if (isBinaryKey(key)) {
      md.appendTrusted(key, r.copy(len, "metadata value"));
      continue;
    }
    const value = r.latin1(len, "metadata value");
    for (let j = 0; j < value.length; j++) {
      const c = value.charCodeAt(j);
      if (c < 0x20 || c > 0x7e) throw new ProtocolError(`metadata value of "${key}" is not printable ASCII`);
    }
    if (isCustomMetadataKey(key)) md.appendTrusted(key, value);
  }
  return md;
}

/** A status section's content before encoding. */
export interface EncodedStatus {
  code: Code;
  message: Buffer | undefined;
  details: Uint8Array | undefined;
  trailers: Metadata;
  extraTrailers: Metadata | undefined;
}

const emptyMetadata = new Metadata();
const okStatus: EncodedStatus = { code: Code.OK, message: undefined, details: undefined, trailers: emptyMetadata, extraTrailers: undefined };

/** Prepares the status section for `error` (undefined for OK) and the handler's `trailers`. */
export function prepareStatus(error: FerryError | undefined, trailers: Metadata): EncodedStatus {
  if (error === undefined) {
    // Written synchronously right after, so one scratch object serves every OK status.
    okStatus.trailers = trailers;
    return okStatus;
  }
  const details = error.details.length > 0 ? toBinary(StatusSchema, create(StatusSchema, { code: error.code, message: error.rawMessage, details: error.details })) : undefined;
  return {
    code: error.code,
    message: error.rawMessage === "" ? undefined : Buffer.from(error.rawMessage, "utf8"),
    details,
    trailers,
    extraTrailers: error.metadata.size > 0 ? error.metadata : undefined,
  };
}

/** Encoded size of a status section: u8 code, u32 + message, u32 + details, metadata block (trailers). */
export function statusBytes(s: EncodedStatus): number {
  let n = 1 + 4 + (s.message?.length ?? 0) + 4 + (s.details?.length ?? 0) + metadataBytes(s.trailers);
  if (s.extraTrailers !== undefined) n += metadataBytes(s.extraTrailers) - 2;
  return n;
}

/** Writes a status section at `pos`; returns the position after it. */
export function writeStatus(buf: Buffer, pos: number, s: EncodedStatus): number {
  buf[pos++] = s.code;
  buf.writeUInt32BE(s.message?.length ?? 0, pos);
  pos += 4;
  if (s.message !== undefined) pos += s.message.copy(buf, pos);
  buf.writeUInt32BE(s.details?.length ?? 0, pos);
  pos += 4;
  if (s.details !== undefined) {
    buf.set(s.details, pos);
    pos += s.details.length;
  }
  if (s.extraTrailers === undefined) return writeMetadataBlock(buf, pos, s.trailers);
  const merged = new Metadata(s.trailers).merge(s.extraTrailers);
  return writeMetadataBlock(buf, pos, merged);
}

/** Reads a status section: `undefined` for OK, else the error, with the trailers in `trailersOut`. */
export function readStatus(r: PayloadReader, trailersOut: Metadata): FerryError | undefined {
  const code = codeFromNumber(r.u8("status code"));
  const message = r.utf8(r.u32("status message length"), "status message");
  const detailsLen = r.u32("status details length");
  const details = detailsLen === 0 ? undefined : r.copy(detailsLen, "status details");
  const md = readMetadataBlock(r);
  for (const [k, v] of md) trailersOut.appendTrusted(k, v);
  if (code === Code.OK) return undefined;
  let anyDetails: FerryError["details"] = [];
  if (details !== undefined) {
    try {
      anyDetails = fromBinary(StatusSchema, details).details;
    } catch {
      anyDetails = [];
    }
  }
  return new FerryError(code, message, { metadata: trailersOut, details: anyDetails });
}


/** Reads a WINDOW_UPDATE payload: a u32 increment, which must not be zero. */
export function readWindowIncrement(buf: Buffer, start: number, end: number): number {
  const inc = new PayloadReader(buf, start, end).u32("window increment");
  if (inc === 0) throw new ProtocolError("WINDOW_UPDATE with a zero increment");
  return inc;
}

/** Reads a CANCEL payload: a u8 status code and a UTF-8 reason (`fallback` when empty). */
export function readCancel(buf: Buffer, start: number, end: number, fallback: string): { code: Code; reason: string } {
  const r = new PayloadReader(buf, start, end);
  const code = codeFromNumber(r.u8("cancel code"));
  return { code, reason: r.utf8(r.remaining, "cancel reason") || fallback };
}

/**
 * RESOURCE_EXHAUSTED for a frame larger than the peer's MAX_FRAME_BYTES: the
 * sender fails that call rather than send a frame that would make the peer
 * close the whole connection.
 */
export function tooLarge(what: string, size: number, limit: number): FerryError {
  return new FerryError(Code.RESOURCE_EXHAUSTED, `${what} of ${size} bytes exceeds the peer's frame limit of ${limit} bytes`);
}
