/**
 * Low-level protobuf wire writes straight into a caller's `Buffer`: varints,
 * fixed-width integers, floats and UTF-8 text, each returning the position
 * after what it wrote. The sizes of the same values are computed by the
 * `*Size` functions, so a message can be measured once and then written
 * into a buffer of exactly that size (protobuf encoding spec,
 * https://protobuf.dev/programming-guides/encoding/).
 */

/** Wire types (protobuf encoding spec). */
export const WireType = { Varint: 0, Bit64: 1, LengthDelimited: 2, StartGroup: 3, EndGroup: 4, Bit32: 5 } as const;

/** Encoded size of an unsigned 32-bit varint (`v` in 0 … 2^32−1). */
export function varint32Size(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Encoded size of a signed 32-bit varint: negative values are sign-extended to 10 bytes. */
export function int32Size(v: number): number {
  return v < 0 ? 10 : varint32Size(v);
}

/** Encoded size of a 64-bit varint given as two's-complement halves. */
export function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varint32Size(lo >>> 0);
  const h = hi >>> 0;
  // 32 bits of `lo` plus the bits of `hi`, 7 per byte.
  if (h < 0x8) return 5;
  if (h < 0x400) return 6;
  if (h < 0x20000) return 7;
  if (h < 0x1000000) return 8;
  if (h < 0x80000000) return 9;
  return 10;
}

/** Writes an unsigned 32-bit varint. */
export function writeVarint32(buf: Buffer, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Writes a signed 32-bit varint (negative values as 10 bytes, as protobuf specifies). */
export function writeInt32(buf: Buffer, pos: number, v: number): number {
  if (v >= 0) return writeVarint32(buf, pos, v);
  for (let i = 0; i < 9; i++) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>= 7;
  }
  buf[pos++] = 1;
  return pos;
}

/** Writes a 64-bit varint given as two's-complement halves. */
export function writeVarint64(buf: Buffer, pos: number, lo: number, hi: number): number {
  lo >>>= 0;
  hi >>>= 0;
  while (hi > 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

/** Writes a little-endian 32-bit integer (fixed32, sfixed32). */
export function writeFixed32(buf: Buffer, pos: number, v: number): number {
  buf[pos] = v;
  buf[pos + 1] = v >>> 8;
  buf[pos + 2] = v >>> 16;
  buf[pos + 3] = v >>> 24;
  return pos + 4;
}

/**
 * The UTF-8 length of `s`: its length when it is ASCII (checked in JS for
 * short strings), else `Buffer.byteLength` (lone surrogates count 3 bytes,
 * written as U+FFFD like `TextEncoder` does).
 */
export function utf8Size(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, "utf8");
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, "utf8");
  return n;
}

/** Writes `s` as UTF-8, `bytes` long (from {@link utf8Size}). */
export function writeUtf8(buf: Buffer, pos: number, s: string, bytes: number): number {
  if (bytes === s.length && bytes <= 64) {
    for (let i = 0; i < bytes; i++) buf[pos + i] = s.charCodeAt(i);
    return pos + bytes;
  }
  buf.write(s, pos, bytes, "utf8");
  return pos + bytes;
}

/** Copies `bytes` (short ones byte by byte: cheaper than `set` for a few bytes). */
export function writeBytes(buf: Buffer, pos: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n <= 16) {
    for (let i = 0; i < n; i++) buf[pos + i] = bytes[i];
  } else buf.set(bytes, pos);
  return pos + n;
}
