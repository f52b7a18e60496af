import { create, fromBinary, isMessage, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EditionsSchema } from "../../test/gen/ferry/codec/v1/editions_pb.js";
import { Proto2Schema } from "../../test/gen/ferry/codec/v1/kinds2_pb.js";
import { Maps3Schema, Nested3Schema, Oneofs3Schema, Repeated3Schema, Scalars3Schema, WellKnown3Schema } from "../../test/gen/ferry/codec/v1/kinds3_pb.js";
import { EchoResponseSchema } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { initArbitrary, unknownFieldsArbitrary } from "../../test/codec/message-arbitrary.js";
import { MessageCodec, messageCodec } from "./message-codec.js";

const RUNS = { numRuns: 100 };

/** The compiled codec's bytes for `value`, written at an offset into a larger buffer (as the transports do). */
function writeAtOffset(codec: MessageCodec, value: unknown): Buffer {
  const n = codec.measure(value);
  const buf = Buffer.alloc(n + 7, 0xee);
  const end = codec.writeMeasured(buf, 3);
  expect(end).toBe(3 + n);
  expect(buf.subarray(n + 3).every((b) => b === 0xee)).toBe(true);
  return buf.subarray(3, 3 + n);
}

function expectSameAsProtobufEs(schema: DescMessage, init: Record<string, unknown>, unknown?: Message["$unknown"]): void {
  const codec = messageCodec(schema);
  const message = create(schema, init as never);
  if (unknown !== undefined && unknown.length > 0) message.$unknown = unknown;
  const expected = Buffer.from(toBinary(schema, message));
  expect(Buffer.from(codec.encode(message))).toEqual(expected);
  expect(writeAtOffset(codec, message)).toEqual(expected);
  // An init object encodes as the message create() makes of it, without creating it.
  if (unknown === undefined) expect(Buffer.from(codec.encode(init))).toEqual(expected);
  const decoded = codec.decode(expected);
  expect(isMessage(decoded, schema)).toBe(true);
  expect(decoded).toEqual(fromBinary(schema, expected));
}

describe("compiled message codec against protobuf-es", () => {
  const schemas: [string, DescMessage][] = [
    ["proto3 scalars, 64-bit as bigint and JS_STRING, optional, a 5-byte tag", Scalars3Schema],
    ["proto3 repeated fields, packed and unpacked, of every type", Repeated3Schema],
    ["proto3 maps of every key type, scalar, enum and message values", Maps3Schema],
    ["proto3 oneofs, including a wrapper type inside a oneof", Oneofs3Schema],
    ["proto3 nested and recursive messages, google.protobuf.Timestamp", Nested3Schema],
    ["proto2 defaults, required, groups, closed enums, oneof, maps", Proto2Schema],
    ["editions 2023: explicit and implicit presence, delimited encoding, expanded lists, closed enums", EditionsSchema],
  ];

  it.each(schemas)("encodes byte-identically and decodes equally: %s", (_name, schema) => {
    expect(messageCodec(schema).compiled).toBe(true);
    fc.assert(
      fc.property(initArbitrary(schema, schema === Nested3Schema ? 1 : 2), (init) => expectSameAsProtobufEs(schema, init)),
      RUNS,
    );
  });

  it("writes unknown fields after the known ones, as protobuf-es does", () => {
    fc.assert(
      fc.property(initArbitrary(Scalars3Schema, 0), unknownFieldsArbitrary(), (init, unknown) => expectSameAsProtobufEs(Scalars3Schema, init, unknown)),
      RUNS,
    );
    // Unknown fields of nested messages, as fromBinary keeps them.
    fc.assert(
      fc.property(initArbitrary(Nested3Schema, 1), unknownFieldsArbitrary(), (init, unknown) => {
        const message = create(Nested3Schema, init as never);
        const child = create(Nested3Schema, { name: "child" });
        child.$unknown = unknown;
        message.child = child;
        expect(Buffer.from(messageCodec(Nested3Schema).encode(message))).toEqual(Buffer.from(toBinary(Nested3Schema, message)));
      }),
      RUNS,
    );
  });

  it("keeps every byte of a message parsed into google.protobuf.Empty (all unknown) when re-encoding it", () => {
    fc.assert(
      fc.property(initArbitrary(Nested3Schema, 1), (init) => {
        const bytes = toBinary(Nested3Schema, create(Nested3Schema, init as never));
        const empty = fromBinary(EmptySchema, bytes);
        expect(Buffer.from(messageCodec(EmptySchema).encode(empty))).toEqual(Buffer.from(toBinary(EmptySchema, empty)));
      }),
      { numRuns: 100 },
    );
  });

  it("encodes the hot path's message, EchoResponse, into a buffer at an offset", () => {
    const codec = messageCodec(EchoResponseSchema);
    const init = { payload: new Uint8Array(100).fill(9), index: 77, text: "é" };
    expect(writeAtOffset(codec, init)).toEqual(Buffer.from(toBinary(EchoResponseSchema, create(EchoResponseSchema, init))));
  });
});

describe("fallback to protobuf-es", () => {
  it("leaves types with unwrapped wrapper fields or Struct fields to protobuf-es, with the same bytes", () => {
    const codec = messageCodec(WellKnown3Schema);
    expect(codec.compiled).toBe(false);
    const message = create(WellKnown3Schema, { wrapped: 5, doc: { a: 1, b: [true, null, "x"] }, note: "n" });
    const expected = Buffer.from(toBinary(WellKnown3Schema, message));
    expect(Buffer.from(codec.encode(message))).toEqual(expected);
    expect(writeAtOffset(codec, message)).toEqual(expected);
  });

  it("encodes values the compiled encoder rejects through protobuf-es (its coercions, its errors)", () => {
    const codec = messageCodec(Scalars3Schema);
    // protobuf-es accepts a decimal string or a number for a 64-bit field: same bytes.
    const loose = create(Scalars3Schema, { fInt64: "123" as never, fUint64: 7 as never });
    expect(Buffer.from(codec.encode(loose))).toEqual(Buffer.from(toBinary(Scalars3Schema, loose)));
    // A bytes field given as number[] in an init object (create() converts it).
    expect(Buffer.from(codec.encode({ fBytes: [1, 2, 3] }))).toEqual(Buffer.from(toBinary(Scalars3Schema, create(Scalars3Schema, { fBytes: [1, 2, 3] as never }))));
    // Out of range: protobuf-es's error.
    expect(() => codec.encode(create(Scalars3Schema, { fInt32: 2 ** 40 }))).toThrow(/int32/);
    expect(() => codec.encode(create(Scalars3Schema, { fFloat: 1e300 }))).toThrow(/float32/);
    // A missing proto2 required field.
    expect(() => messageCodec(Proto2Schema).encode(create(Proto2Schema, {}))).toThrow(/required field not set/);
    // Not an object.
    expect(() => codec.encode(42)).toThrow(/expected a ferry.codec.v1.Scalars3 message, got number/);
  });

  it("converts a message of another type the way create() does", () => {
    const leafLike = create(EchoResponseSchema, { text: "x", index: 3 });
    const codec = messageCodec(Scalars3Schema);
    expect(Buffer.from(codec.encode(leafLike))).toEqual(Buffer.from(toBinary(Scalars3Schema, create(Scalars3Schema, leafLike as never))));
  });

  it("measures again when another codec measured in between", () => {
    const a = messageCodec(Scalars3Schema);
    const b = messageCodec(EchoResponseSchema);
    const value = { fString: "abc", fInt64: 5n };
    const n = a.measure(value);
    b.measure({ text: "zzzzzzzz" });
    const buf = Buffer.alloc(n);
    a.writeMeasured(buf, 0);
    expect(buf).toEqual(Buffer.from(toBinary(Scalars3Schema, create(Scalars3Schema, value))));
  });
});
