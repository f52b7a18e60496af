import { protoInt64, ScalarType } from "@bufbuild/protobuf";
import { int32Size, utf8Size, varint32Size, varint64Size, WireType, writeBytes, writeFixed32, writeInt32, writeUtf8, writeVarint32, writeVarint64 } from "./wire-write.js";

/**
 * Lengths and 64-bit halves computed while measuring a message, read back
 * in the same order while writing it (one reused array: encoding is
 * synchronous). `n` counts what the measuring pass pushed, `r` what the
 * writing pass read, `owner` is the codec that measured last.
 */
export const scratch = { values: [] as number[], n: 0, r: 0, owner: undefined as unknown };

/** Measures and writes the bare value (no tag) of one scalar type. */
export interface ScalarCodec {
  readonly wireType: number;
  /** Checks `v` (throws on a value protobuf-es would reject or coerce) and returns its encoded size; may push to {@link scratch}. */
  size(v: unknown): number;
  /** Writes `v` measured by {@link size} just before; returns the position after it. */
  write(buf: Buffer, pos: number, v: any): number;
}

const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;
const UINT32_MAX = 0xffffffff;
const FLOAT32_MAX = 3.4028234663852886e38;

function int32(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v > INT32_MAX || v < INT32_MIN) throw new Error(`invalid int32: ${String(v)}`);
  return v;
}

function uint32(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v > UINT32_MAX || v < 0) throw new Error(`invalid uint32: ${String(v)}`);
  return v;
}

function push64(bits: { lo: number; hi: number }): void {
  const s = scratch;
  s.values[s.n++] = bits.lo;
  s.values[s.n++] = bits.hi;
}

function varint64(signed: boolean, zigzag: boolean): ScalarCodec {
  return {
    wireType: WireType.Varint,
    size(v) {
      let { lo, hi } = signed ? protoInt64.enc(v as bigint) : protoInt64.uEnc(v as bigint);
      if (zigzag) {
        const sign = hi >> 31;
        const l = (lo << 1) ^ sign;
        hi = ((hi << 1) | (lo >>> 31)) ^ sign;
        lo = l;
      }
      push64({ lo, hi });
      return varint64Size(lo, hi);
    },
    write(buf, pos) {
      const s = scratch;
      const lo = s.values[s.r++];
      return writeVarint64(buf, pos, lo, s.values[s.r++]);
    },
  };
}

function fixed64(signed: boolean): ScalarCodec {
  return {
    wireType: WireType.Bit64,
    size(v) {
      push64(signed ? protoInt64.enc(v as bigint) : protoInt64.uEnc(v as bigint));
      return 8;
    },
    write(buf, pos) {
      const s = scratch;
      writeFixed32(buf, pos, s.values[s.r++]);
      return writeFixed32(buf, pos + 4, s.values[s.r++]);
    },
  };
}

const codecs: Record<number, ScalarCodec> = {
  [ScalarType.INT32]: { wireType: WireType.Varint, size: (v) => int32Size(int32(v)), write: writeInt32 as ScalarCodec["write"] },
  [ScalarType.UINT32]: { wireType: WireType.Varint, size: (v) => varint32Size(uint32(v)), write: writeVarint32 as ScalarCodec["write"] },
  [ScalarType.SINT32]: {
    wireType: WireType.Varint,
    size: (v) => varint32Size(((int32(v) << 1) ^ ((v as number) >> 31)) >>> 0),
    write: (buf, pos, v: number) => writeVarint32(buf, pos, ((v << 1) ^ (v >> 31)) >>> 0),
  },
  [ScalarType.FIXED32]: { wireType: WireType.Bit32, size: (v) => (uint32(v), 4), write: writeFixed32 as ScalarCodec["write"] },
  [ScalarType.SFIXED32]: { wireType: WireType.Bit32, size: (v) => (int32(v), 4), write: writeFixed32 as ScalarCodec["write"] },
  [ScalarType.INT64]: varint64(true, false),
  [ScalarType.UINT64]: varint64(false, false),
  [ScalarType.SINT64]: varint64(true, true),
  [ScalarType.FIXED64]: fixed64(false),
  [ScalarType.SFIXED64]: fixed64(true),
  [ScalarType.BOOL]: {
    wireType: WireType.Varint,
    size(v) {
      if (typeof v !== "boolean") throw new Error(`invalid bool: ${String(v)}`);
      return 1;
    },
    write: (buf, pos, v: boolean) => ((buf[pos] = v ? 1 : 0), pos + 1),
  },
  [ScalarType.DOUBLE]: {
    wireType: WireType.Bit64,
    size(v) {
      if (typeof v !== "number") throw new Error(`invalid double: ${String(v)}`);
      return 8;
    },
    write: (buf, pos, v: number) => buf.writeDoubleLE(v, pos),
  },
  [ScalarType.FLOAT]: {
    wireType: WireType.Bit32,
    size(v) {
      if (typeof v !== "number" || (Number.isFinite(v) && (v > FLOAT32_MAX || v < -FLOAT32_MAX))) throw new Error(`invalid float32: ${String(v)}`);
      return 4;
    },
    write: (buf, pos, v: number) => buf.writeFloatLE(v, pos),
  },
  [ScalarType.STRING]: {
    wireType: WireType.LengthDelimited,
    size(v) {
      if (typeof v !== "string") throw new Error(`invalid string: ${typeof v}`);
      const n = utf8Size(v);
      scratch.values[scratch.n++] = n;
      return varint32Size(n) + n;
    },
    write(buf, pos, v: string) {
      const n = scratch.values[scratch.r++];
      return writeUtf8(buf, writeVarint32(buf, pos, n), v, n);
    },
  },
  [ScalarType.BYTES]: {
    wireType: WireType.LengthDelimited,
    size(v) {
      if (!(v instanceof Uint8Array)) throw new Error("invalid bytes: not a Uint8Array");
      return varint32Size(v.length) + v.length;
    },
    write: (buf, pos, v: Uint8Array) => writeBytes(buf, writeVarint32(buf, pos, v.length), v),
  },
};

/** The codec of a scalar type (enums use INT32). */
export function scalarCodec(type: ScalarType): ScalarCodec {
  return codecs[type];
}

/**
 * Converts a map key (always a string property name) to its scalar type the
 * way protobuf-es does before writing it; an invalid key is passed on as is,
 * so the scalar check rejects it.
 */
export function mapKeyConverter(type: ScalarType): (key: string) => unknown {
  switch (type) {
    case ScalarType.STRING:
      return (key) => key;
    case ScalarType.BOOL:
      return (key) => (key === "true" ? true : key === "false" ? false : key);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return (key) => protoInt64.uParse(key);
    case ScalarType.INT64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return (key) => protoInt64.parse(key);
    default:
      return (key) => {
        const n = Number.parseInt(key);
        return Number.isFinite(n) ? n : key;
      };
  }
}
