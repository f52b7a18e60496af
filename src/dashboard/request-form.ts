/**
 * The API explorer's per-field request form, described from a message
 * descriptor: one entry per field with its JSON name, kind and type, so the
 * page can draw a text or number box per scalar, a choice per enum, a group
 * of boxes per nested message and a list per repeated field — what grpcui
 * and Encore's API explorer offer next to raw JSON. Field names and value
 * forms follow the protobuf JSON mapping (64-bit integers as strings,
 * bytes as base64, enums by name).
 *
 * Nesting is cut at {@link MAX_FORM_DEPTH} levels (recursive messages such
 * as `google.protobuf.Struct` or a tree node): deeper fields are edited in
 * the raw JSON. Well-known types with a special JSON form (Timestamp,
 * Duration, wrappers, Struct, Value, Any, FieldMask) are one text box.
 */
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";

/** Message levels drawn as nested groups; deeper ones are raw JSON. */
export const MAX_FORM_DEPTH = 4;

/** One field of the form. */
export interface FormField {
  /** The field's JSON name (the request's key). */
  readonly name: string;
  /** `scalar`, `enum`, `message` (nested fields), `json` (a well-known or too deep message: a JSON text box), `map` (a JSON object box). */
  readonly kind: "scalar" | "enum" | "message" | "json" | "map";
  /** Scalars: `string`, `bool`, `bytes`, `double`, `float`, `int32`, `int64`, `uint32`, `uint64`, …; enums and messages: the type name. */
  readonly type: string;
  readonly repeated: boolean;
  /** The oneof the field belongs to, if any (at most one of them is sent). */
  readonly oneof?: string;
  /** Enums: the value names, in declaration order. */
  readonly values?: readonly string[];
  /** Messages drawn as groups: their fields. */
  readonly fields?: readonly FormField[];
}

const JSON_WKT = new Set([
  "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue",
  "google.protobuf.Any", "google.protobuf.FieldMask", "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value", "google.protobuf.BoolValue", "google.protobuf.StringValue",
  "google.protobuf.BytesValue", "google.protobuf.Empty",
]);

/** The form of `message`'s fields. */
export function describeForm(message: DescMessage, depth = 0): FormField[] {
  return message.fields.map((f) => describeField(f, depth));
}

function describeField(f: DescField, depth: number): FormField {
  const base = { name: f.jsonName, repeated: f.fieldKind === "list", ...(f.oneof === undefined ? {} : { oneof: f.oneof.name }) };
  switch (f.fieldKind) {
    case "map":
      return { ...base, kind: "map", type: "map" };
    case "enum":
      return { ...base, kind: "enum", type: f.enum.typeName, values: f.enum.values.map((v) => v.name) };
    case "scalar":
      return { ...base, kind: "scalar", type: scalarName(f.scalar) };
    case "message":
      return messageField(base, f.message, depth);
    case "list":
      if (f.listKind === "scalar") return { ...base, kind: "scalar", type: scalarName(f.scalar) };
      if (f.listKind === "enum") return { ...base, kind: "enum", type: f.enum.typeName, values: f.enum.values.map((v) => v.name) };
      return messageField(base, f.message, depth);
  }
}

function messageField(base: { name: string; repeated: boolean; oneof?: string }, message: DescMessage, depth: number): FormField {
  if (JSON_WKT.has(message.typeName) || depth + 1 >= MAX_FORM_DEPTH) return { ...base, kind: "json", type: message.typeName };
  return { ...base, kind: "message", type: message.typeName, fields: describeForm(message, depth + 1) };
}

function scalarName(t: ScalarType): string {
  return (ScalarType[t] ?? "string").toLowerCase();
}
