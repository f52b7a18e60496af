import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";

/** A JSON Schema (OpenAPI 3.1's dialect, JSON Schema 2020-12) as a plain object. */
export type JsonSchema = Record<string, unknown>;

/** The component name of a message's schema: its full protobuf name (`shop.v1.Product`). */
export function schemaName(message: DescMessage): string {
  return message.typeName;
}

/** A `$ref` to a message's component schema. */
export function schemaRef(message: DescMessage): JsonSchema {
  return { $ref: `#/components/schemas/${schemaName(message)}` };
}

/**
 * The schemas of protobuf's JSON mapping (protobuf.dev "ProtoJSON Format"):
 * fields by their JSON name; 64-bit integers as strings; bytes as base64;
 * enums by value name; maps as objects; the well-known types in their own
 * forms (Timestamp RFC 3339, Duration `"1.5s"`, FieldMask, Struct, wrappers,
 * Any with `@type`). Collects every message reached in `schemas`, keyed by
 * {@link schemaName}, for `components.schemas`.
 */
export class OpenApiSchemas {
  readonly schemas: Record<string, JsonSchema> = {};

  /** The schema of a message (a `$ref`, or inline for the well-known types), adding it to `schemas`. */
  message(message: DescMessage): JsonSchema {
    const wkt = wellKnown(message);
    if (wkt !== undefined) return wkt;
    const name = schemaName(message);
    if (this.schemas[name] === undefined) {
      const properties: Record<string, JsonSchema> = {};
      this.schemas[name] = { type: "object", properties, additionalProperties: false };
      for (const field of message.fields) properties[field.jsonName] = this.field(field);
    }
    return schemaRef(message);
  }

  /** The schema of one field's JSON value. */
  field(field: DescField): JsonSchema {
    switch (field.fieldKind) {
      case "scalar":
        return scalar(field.scalar);
      case "enum":
        return enumSchema(field.enum);
      case "message":
        return this.message(field.message);
      case "list":
        return { type: "array", items: field.listKind === "scalar" ? scalar(field.scalar) : field.listKind === "enum" ? enumSchema(field.enum) : this.message(field.message) };
      case "map":
        return { type: "object", additionalProperties: field.mapKind === "scalar" ? scalar(field.scalar) : field.mapKind === "enum" ? enumSchema(field.enum) : this.message(field.message) };
    }
  }
}

function scalar(type: ScalarType): JsonSchema {
  switch (type) {
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64", pattern: "^[0-9]+$" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "uint32", minimum: 0 };
    default:
      return { type: "integer", format: "int32" };
  }
}

function enumSchema(e: DescEnum): JsonSchema {
  return { type: "string", enum: e.values.map((v) => v.name) };
}

function wellKnown(message: DescMessage): JsonSchema | undefined {
  switch (message.typeName) {
    case "google.protobuf.Timestamp":
      return { type: "string", format: "date-time" };
    case "google.protobuf.Duration":
      return { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$", examples: ["3.5s"] };
    case "google.protobuf.FieldMask":
      return { type: "string", description: "comma-separated field paths in lowerCamelCase" };
    case "google.protobuf.Struct":
      return { type: "object", additionalProperties: true };
    case "google.protobuf.Value":
      return {};
    case "google.protobuf.ListValue":
      return { type: "array", items: {} };
    case "google.protobuf.Empty":
      return { type: "object", additionalProperties: false };
    case "google.protobuf.Any":
      return { type: "object", properties: { "@type": { type: "string" } }, required: ["@type"], additionalProperties: true };
  }
  if (message.typeName.startsWith("google.protobuf.") && message.typeName.endsWith("Value") && message.fields.length === 1) {
    const inner = scalar((message.fields[0] as DescField & { scalar: ScalarType }).scalar);
    return { ...inner, type: [inner.type as string, "null"] };
  }
  return undefined;
}
