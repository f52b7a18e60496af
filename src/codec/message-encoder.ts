import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { mapKeyConverter, scalarCodec, scratch, type ScalarCodec } from "./scalar-codecs.js";
import { varint32Size, WireType, writeBytes, writeVarint32 } from "./wire-write.js";

/**
 * A protobuf binary encoder compiled for one message type: {@link size}
 * measures a message (or an init object of the type, read as `create()`
 * would read it) and {@link write} writes it into a buffer the caller owns,
 * without intermediate allocations. `write` must follow the `size` of the
 * same value, with no other encoding in between (they share
 * {@link scratch}).
 */
export interface MessageEncoder {
  size(value: any): number;
  write(value: any, buf: Buffer, pos: number): number;
}

interface FieldEncoder {
  size(m: any): number;
  write(m: any, buf: Buffer, pos: number): number;
}

// Field presence values of google.protobuf.FeatureSet.FieldPresence.
const IMPLICIT = 2;
const LEGACY_REQUIRED = 3;
const hasOwn = Object.prototype.hasOwnProperty;

const encoders = new WeakMap<DescMessage, MessageEncoder>();

/**
 * The compiled encoder of `desc`, or `undefined` when the type (or a type
 * it reaches) uses a representation this encoder leaves to protobuf-es:
 * unwrapped `google.protobuf` wrapper fields and `google.protobuf.Struct`
 * fields held as JSON objects.
 */
export function compileEncoder(desc: DescMessage): MessageEncoder | undefined {
  if (!supported(desc, new Set())) return undefined;
  return encoderOf(desc);
}

function supported(desc: DescMessage, seen: Set<DescMessage>): boolean {
  if (seen.has(desc)) return true;
  seen.add(desc);
  for (const f of desc.fields) {
    const child = f.message;
    if (child === undefined) continue;
    if (child.typeName === "google.protobuf.Struct" && desc.typeName !== "google.protobuf.Value") return false;
    if (f.fieldKind === "message" && f.oneof === undefined && isWrapperDesc(child)) return false;
    if (!supported(child, seen)) return false;
  }
  return true;
}

function encoderOf(desc: DescMessage): MessageEncoder {
  let enc = encoders.get(desc);
  if (enc !== undefined) return enc;
  const typeName = desc.typeName;
  const fields: FieldEncoder[] = [];
  enc = {
    size(value) {
      const own = value.$typeName;
      if (own !== typeName && own !== undefined) throw new Error(`cannot encode ${String(own)} as ${typeName}`);
      let n = 0;
      for (let i = 0; i < fields.length; i++) n += fields[i].size(value);
      const unknown = own === undefined ? undefined : value.$unknown;
      if (unknown !== undefined) for (let i = 0; i < unknown.length; i++) n += tagSize(unknown[i].no, unknown[i].wireType) + unknown[i].data.length;
      return n;
    },
    write(value, buf, pos) {
      for (let i = 0; i < fields.length; i++) pos = fields[i].write(value, buf, pos);
      const unknown = value.$typeName === undefined ? undefined : value.$unknown;
      if (unknown !== undefined) {
        for (let i = 0; i < unknown.length; i++) {
          pos = writeVarint32(buf, pos, tag(unknown[i].no, unknown[i].wireType));
          pos = writeBytes(buf, pos, unknown[i].data);
        }
      }
      return pos;
    },
  };
  // Registered before its fields are compiled: a recursive type finds itself.
  encoders.set(desc, enc);
  for (const f of [...desc.fields].sort((a, b) => a.number - b.number)) fields.push(fieldEncoder(f));
  return enc;
}

function tag(no: number, wireType: number): number {
  return ((no << 3) | wireType) >>> 0;
}

function tagSize(no: number, wireType: number): number {
  return varint32Size(tag(no, wireType));
}

function fieldEncoder(f: DescField): FieldEncoder {
  switch (f.fieldKind) {
    case "list":
      return f.listKind === "message" ? messageListField(f) : f.packed ? packedField(f) : unpackedField(f);
    case "map":
      return mapField(f);
    case "message":
      return presenceCheck(f, messageValue(f.number, f.delimitedEncoding, encoderOf(f.message)));
    default:
      return presenceCheck(f, scalarValue(f.number, scalarCodec(f.fieldKind === "enum" ? ScalarType.INT32 : f.scalar)));
  }
}

/** Measures and writes one field value, tag included. */
interface ValueEncoder {
  size(v: any): number;
  write(v: any, buf: Buffer, pos: number): number;
}

function scalarValue(no: number, codec: ScalarCodec): ValueEncoder {
  const t = tag(no, codec.wireType);
  const ts = varint32Size(t);
  return {
    size: (v) => ts + codec.size(v),
    write: (v, buf, pos) => codec.write(buf, writeVarint32(buf, pos, t), v),
  };
}

function messageValue(no: number, delimited: boolean, child: MessageEncoder): ValueEncoder {
  if (delimited) {
    const start = tag(no, WireType.StartGroup);
    const end = tag(no, WireType.EndGroup);
    const ts = varint32Size(start) + varint32Size(end);
    return {
      size: (v) => ts + child.size(v),
      write: (v, buf, pos) => writeVarint32(buf, child.write(v, buf, writeVarint32(buf, pos, start)), end),
    };
  }
  const t = tag(no, WireType.LengthDelimited);
  const ts = varint32Size(t);
  return {
    size(v) {
      const s = scratch;
      const slot = s.n++;
      const inner = child.size(v);
      s.values[slot] = inner;
      return ts + varint32Size(inner) + inner;
    },
    write: (v, buf, pos) => child.write(v, buf, writeVarint32(buf, writeVarint32(buf, pos, t), scratch.values[scratch.r++])),
  };
}

/** A singular field: written when its oneof case is selected, when set (explicit presence), or when not zero (implicit). */
function presenceCheck(f: DescField, value: ValueEncoder): FieldEncoder {
  const name = f.localName;
  if (f.oneof !== undefined) {
    const group = f.oneof.localName;
    return {
      size: (m) => (m[group]?.case === name ? value.size(m[group].value) : 0),
      write: (m, buf, pos) => (m[group]?.case === name ? value.write(m[group].value, buf, pos) : pos),
    };
  }
  if (f.presence !== IMPLICIT) {
    const required = f.presence === LEGACY_REQUIRED;
    return {
      size(m) {
        const v = m[name];
        if (v != null && hasOwn.call(m, name)) return value.size(v);
        if (required) throw new Error(`required field ${f.name} not set`);
        return 0;
      },
      write: (m, buf, pos) => (m[name] != null && hasOwn.call(m, name) ? value.write(m[name], buf, pos) : pos),
    };
  }
  const isZero = zeroCheck(f);
  return {
    size: (m) => (isZero(m[name]) ? 0 : value.size(m[name])),
    write: (m, buf, pos) => (isZero(m[name]) ? pos : value.write(m[name], buf, pos)),
  };
}

/** protobuf-es's test for "not set" of an implicit-presence field (an absent init value counts as zero). */
function zeroCheck(f: DescField): (v: any) => boolean {
  if (f.fieldKind === "enum") {
    const zero = f.enum.values[0].number;
    return (v) => v == null || v === zero;
  }
  switch (f.fieldKind === "scalar" ? f.scalar : undefined) {
    case ScalarType.BOOL:
      return (v) => v == null || v === false;
    case ScalarType.STRING:
      return (v) => v == null || v === "";
    case ScalarType.BYTES:
      return (v) => v == null || (v instanceof Uint8Array && v.byteLength === 0);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return (v) => v == null || Object.is(v, 0);
    default:
      return (v) => v == null || v == 0;
  }
}

function messageListField(f: DescField & { fieldKind: "list" }): FieldEncoder {
  const name = f.localName;
  const item = messageValue(f.number, (f as { delimitedEncoding?: boolean }).delimitedEncoding === true, encoderOf(f.message!));
  return {
    size(m) {
      const items = m[name];
      let n = 0;
      if (items != null) for (let i = 0; i < items.length; i++) n += item.size(items[i]);
      return n;
    },
    write(m, buf, pos) {
      const items = m[name];
      if (items != null) for (let i = 0; i < items.length; i++) pos = item.write(items[i], buf, pos);
      return pos;
    },
  };
}

function unpackedField(f: DescField & { fieldKind: "list" }): FieldEncoder {
  const name = f.localName;
  const item = scalarValue(f.number, scalarCodec(f.listKind === "enum" ? ScalarType.INT32 : f.scalar!));
  return {
    size(m) {
      const items = m[name];
      let n = 0;
      if (items != null) for (let i = 0; i < items.length; i++) n += item.size(items[i]);
      return n;
    },
    write(m, buf, pos) {
      const items = m[name];
      if (items != null) for (let i = 0; i < items.length; i++) pos = item.write(items[i], buf, pos);
      return pos;
    },
  };
}

function packedField(f: DescField & { fieldKind: "list" }): FieldEncoder {
  const name = f.localName;
  const codec = scalarCodec(f.listKind === "enum" ? ScalarType.INT32 : f.scalar!);
  const t = tag(f.number, WireType.LengthDelimited);
  const ts = varint32Size(t);
  return {
    size(m) {
      const items = m[name];
      if (items == null || items.length === 0) return 0;
      const s = scratch;
      const slot = s.n++;
      let n = 0;
      for (let i = 0; i < items.length; i++) n += codec.size(items[i]);
      s.values[slot] = n;
      return ts + varint32Size(n) + n;
    },
    write(m, buf, pos) {
      const items = m[name];
      if (items == null || items.length === 0) return pos;
      pos = writeVarint32(buf, writeVarint32(buf, pos, t), scratch.values[scratch.r++]);
      for (let i = 0; i < items.length; i++) pos = codec.write(buf, pos, items[i]);
      return pos;
    },
  };
}

function mapField(f: DescField & { fieldKind: "map" }): FieldEncoder {
  const name = f.localName;
  const t = tag(f.number, WireType.LengthDelimited);
  const ts = varint32Size(t);
  const toKey = mapKeyConverter(f.mapKey);
  const key = scalarValue(1, scalarCodec(f.mapKey));
  const value = f.mapKind === "message" ? messageValue(2, false, encoderOf(f.message!)) : scalarValue(2, scalarCodec(f.mapKind === "enum" ? ScalarType.INT32 : f.scalar!));
  return {
    size(m) {
      const record = m[name];
      if (record == null) return 0;
      const keys = Object.keys(record);
      const s = scratch;
      let n = 0;
      for (let i = 0; i < keys.length; i++) {
        const slot = s.n++;
        const entry = key.size(toKey(keys[i])) + value.size(record[keys[i]] ?? {});
        s.values[slot] = entry;
        n += ts + varint32Size(entry) + entry;
      }
      return n;
    },
    write(m, buf, pos) {
      const record = m[name];
      if (record == null) return pos;
      const keys = Object.keys(record);
      for (let i = 0; i < keys.length; i++) {
        pos = writeVarint32(buf, writeVarint32(buf, pos, t), scratch.values[scratch.r++]);
        pos = value.write(record[keys[i]] ?? {}, buf, key.write(toKey(keys[i]), buf, pos));
      }
      return pos;
    },
  };
}
