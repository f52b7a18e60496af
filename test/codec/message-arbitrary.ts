import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import fc from "fast-check";

/**
 * fast-check arbitraries of protobuf-es init objects for any message type,
 * built from its descriptor: every scalar type over its whole range (64-bit
 * as bigint, or decimal strings for `jstype = JS_STRING`), -0, NaN and
 * infinities, lone surrogates in strings, open enums with unknown numbers,
 * lists, maps of every key type, oneofs, nested and recursive messages
 * (bounded depth), and fields with explicit presence left unset. Required
 * fields (proto2, LEGACY_REQUIRED) are always set.
 */
export function initArbitrary(desc: DescMessage, depth = 3): fc.Arbitrary<Record<string, unknown>> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  const required: string[] = [];
  for (const member of desc.members) {
    if (member.kind === "oneof") {
      parts[member.localName] = fc.oneof(
        fc.constant({ case: undefined }),
        ...member.fields.map((f) => singular(f, depth).map((value) => ({ case: f.localName, value }))),
      );
      continue;
    }
    const arb = fieldArbitrary(member, depth);
    if (arb === undefined) continue;
    parts[member.localName] = arb;
    if (member.presence === 3) required.push(member.localName);
  }
  return fc.record(parts, { requiredKeys: required });
}

function fieldArbitrary(f: DescField, depth: number): fc.Arbitrary<unknown> | undefined {
  switch (f.fieldKind) {
    case "list": {
      if (f.listKind === "message" && depth <= 0) return undefined;
      const item = f.listKind === "message" ? initArbitrary(f.message, depth - 1) : f.listKind === "enum" ? enumArbitrary(f.enum) : scalarArbitrary(f.scalar, f.longAsString);
      return fc.array(item, { maxLength: 4 });
    }
    case "map": {
      if (f.mapKind === "message" && depth <= 0) return undefined;
      const value = f.mapKind === "message" ? initArbitrary(f.message, depth - 1) : f.mapKind === "enum" ? enumArbitrary(f.enum) : scalarArbitrary(f.scalar, false);
      return fc.dictionary(mapKeyArbitrary(f.mapKey), value, { maxKeys: 4 });
    }
    case "message":
      return depth <= 0 ? undefined : initArbitrary(f.message, depth - 1);
    default:
      return singular(f, depth);
  }
}

function singular(f: DescField, depth: number): fc.Arbitrary<unknown> {
  if (f.fieldKind === "message") return initArbitrary(f.message, Math.max(depth - 1, 0));
  if (f.fieldKind === "enum") return enumArbitrary(f.enum);
  if (f.fieldKind === "scalar") return scalarArbitrary(f.scalar, f.longAsString);
  throw new Error(`not a singular field: ${f.toString()}`);
}

function enumArbitrary(e: DescEnum): fc.Arbitrary<number> {
  const known = fc.constantFrom(...e.values.map((v) => v.number));
  // Open enums keep unknown numbers; closed ones (proto2, editions CLOSED) only hold known values.
  return e.open ? fc.oneof(known, fc.integer({ min: -0x80000000, max: 0x7fffffff })) : known;
}

const I64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const U64 = { min: 0n, max: 2n ** 64n - 1n };

/** Values of one scalar type, over its whole range. */
export function scalarArbitrary(type: ScalarType, longAsString: boolean): fc.Arbitrary<unknown> {
  const long = (range: { min: bigint; max: bigint }) => {
    const big = fc.oneof(fc.bigInt(range), fc.constantFrom(range.min, range.max, 0n, 1n, 127n, 128n));
    return longAsString ? big.map(String) : big;
  };
  switch (type) {
    case ScalarType.DOUBLE:
      return fc.oneof(fc.double(), fc.constantFrom(-0, 0, NaN, Infinity, -Infinity));
    case ScalarType.FLOAT:
      return fc.oneof(fc.float(), fc.constantFrom(-0, 0, NaN, Infinity));
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(0, -1, 127, 128));
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 127, 128, 0xffffffff));
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return long(I64);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return long(U64);
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return fc.oneof(fc.string(), fc.string({ unit: "binary", maxLength: 40 }), fc.string({ minLength: 60, maxLength: 300 }));
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 40 });
  }
}

function mapKeyArbitrary(type: ScalarType): fc.Arbitrary<string> {
  switch (type) {
    case ScalarType.STRING:
      return fc.string({ maxLength: 8 });
    case ScalarType.BOOL:
      return fc.constantFrom("true", "false");
    default:
      return scalarArbitrary(type, false).map(String);
  }
}

/** Unknown fields (`$unknown`) with numbers from 1000 up: every wire type, with valid content. */
export function unknownFieldsArbitrary(): fc.Arbitrary<{ no: number; wireType: number; data: Uint8Array }[]> {
  const varint = fc.integer({ min: 0, max: 0xffffffff }).map((v) => {
    const out: number[] = [];
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v);
    return new Uint8Array(out);
  });
  const field = fc.oneof(
    fc.record({ no: fc.integer({ min: 1000, max: 5000 }), wireType: fc.constant(0), data: varint }),
    fc.record({ no: fc.integer({ min: 1000, max: 5000 }), wireType: fc.constant(1), data: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
    fc.record({ no: fc.integer({ min: 1000, max: 5000 }), wireType: fc.constant(5), data: fc.uint8Array({ minLength: 4, maxLength: 4 }) }),
    fc.record({ no: fc.integer({ min: 1000, max: 5000 }), wireType: fc.constant(2), data: fc.uint8Array({ maxLength: 20 }).map((b) => new Uint8Array([b.length, ...b])) }),
  );
  return fc.array(field, { maxLength: 4 });
}
