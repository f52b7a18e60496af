import {
  create,
  fromBinary,
  fromJson,
  toJson,
  type DescMessage,
  type JsonValue,
  type Message,
  type Registry,
} from "@bufbuild/protobuf";
import { messageCodec } from "../codec/message-codec.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/**
 * A message instance of `schema`: `value` itself when it already is one (its
 * `$typeName` matches), else a new message created from the init shape.
 * Raises INVALID_ARGUMENT when `value` is not an object.
 */
export function toMessage(schema: DescMessage, value: unknown): Message {
  if (typeof value !== "object" || value === null) {
    throw new FerryError(Code.INVALID_ARGUMENT, `expected a ${schema.typeName} message, got ${value === null ? "null" : typeof value}`);
  }
  if ((value as Message).$typeName === schema.typeName) return value as Message;
  return create(schema, value as never) as Message;
}

/**
 * Serialises `message` (or an init object of `schema`) to the protobuf
 * binary format: the bytes protobuf-es's `toBinary` gives, written by
 * Ferry's compiled encoder (src/codec, protobuf-es for what it does not
 * handle). Raises protobuf-es's error for a value that cannot be encoded.
 */
export function encodeBinary(schema: DescMessage, message: Message): Uint8Array {
  return messageCodec(schema).encode(message);
}

/**
 * Parses protobuf binary `bytes`. Raises INTERNAL (the gRPC spec's code for a
 * message that cannot be parsed) naming the type; unknown fields are kept.
 */
export function decodeBinary(schema: DescMessage, bytes: Uint8Array): Message {
  try {
    return fromBinary(schema, bytes);
  } catch (err) {
    throw new FerryError(Code.INTERNAL, `cannot decode ${schema.typeName}: ${(err as Error).message}`, { cause: err });
  }
}

/** Options of the JSON codec (protobuf's canonical JSON mapping). */
export interface JsonCodecOptions {
  /** Registry used to resolve `google.protobuf.Any` type URLs. */
  registry?: Registry;
}

/**
 * Parses JSON (text already parsed into a value) with protobuf's JSON mapping.
 * Raises INVALID_ARGUMENT with the parser's reason; unknown fields are errors,
 * as the mapping specifies. Keys such as `__proto__` are treated as unknown
 * field names and never touch object prototypes.
 */
export function decodeJson(schema: DescMessage, json: JsonValue, options: JsonCodecOptions = {}): Message {
  try {
    return fromJson(schema, json, { registry: options.registry });
  } catch (err) {
    throw new FerryError(Code.INVALID_ARGUMENT, `invalid ${schema.typeName} JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Serialises `message` with protobuf's JSON mapping (lowerCamelCase field names). */
export function encodeJson(schema: DescMessage, message: Message, options: JsonCodecOptions = {}): JsonValue {
  return toJson(schema, message, { registry: options.registry });
}
