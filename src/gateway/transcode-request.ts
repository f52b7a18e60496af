import { ScalarType, type DescField, type DescMessage, type JsonObject, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { decodeJson } from "../contract/codec.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { isScalarWkt, type HttpRoute } from "./http-route.js";
import { quoteInput } from "./http-input.js";

/**
 * Builds a route's request message from the HTTP request, per
 * google.api.http's rules (google/api/http.proto): the body (all of it for
 * `body: "*"`, or one top-level field), then path variables (nested field
 * paths such as `{shelf.shelf_id}` fill nested messages), then — for fields
 * bound by neither, and only without `body: "*"` — query parameters.
 *
 * A query parameter names a field by its path of .proto or JSON names
 * (`sub.subfield`, `pageSize`); it must end at a scalar, a repeated scalar
 * (every occurrence is taken: `?tags=a&tags=b`), or a well-known type with
 * a string form (Timestamp, Duration, FieldMask, wrappers). Values use
 * protobuf's JSON mapping, so `"5"` fills an int32, `true`/`false` a bool
 * and an enum takes its name or number.
 *
 * @throws FerryError INVALID_ARGUMENT for a body that is not JSON (or not an
 * object for `body: "*"`), unknown fields, values of the wrong type, and an
 * unknown or message-typed query parameter (quoted up to 64 characters).
 * Keys such as `__proto__` are plain data here: objects are built with a
 * null prototype.
 */
export function transcodeRequest(route: HttpRoute, pathValues: Map<string, string>, query: URLSearchParams, bodyText: string, registry?: Registry): Message {
  let json: JsonObject = Object.create(null) as JsonObject;
  if (route.body !== "" && bodyText.trim() !== "") {
    const body = parseJson(bodyText);
    if (route.body === "*") {
      if (!isObject(body)) throw new FerryError(Code.INVALID_ARGUMENT, "request body must be a JSON object");
      json = Object.assign(Object.create(null) as JsonObject, body);
    } else {
      json[route.bodyField!.jsonName] = body;
    }
  }
  for (const [name, value] of pathValues) setPath(json, route.pathFields.get(name)!, scalarJson(route.pathFields.get(name)!.at(-1)!, value));
  if (route.body !== "*") {
    for (const key of new Set(query.keys())) {
      const chain = queryField(route.method.input, key);
      if (chain === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `unknown query parameter ${quoteInput(key)}: ${route.method.input.typeName} has no such field`);
      if (isBound(json, chain)) continue;
      const field = chain[chain.length - 1];
      const values = query.getAll(key);
      setPath(json, chain, field.fieldKind === "list" ? values.map((v) => scalarJson(field, v)) : scalarJson(field, values[0]));
    }
  }
  return decodeJson(route.method.input, json, { registry });
}

/**
 * The fields a query parameter names (`a.b`, by .proto or JSON name), or
 * `undefined` for none.
 *
 * @throws FerryError INVALID_ARGUMENT when it ends at a message or map field (google.api.http: only primitive and repeated primitive fields map to query parameters).
 */
function queryField(input: DescMessage, key: string): DescField[] | undefined {
  const chain: DescField[] = [];
  let message: DescMessage | undefined = input;
  for (const name of key.split(".")) {
    const field: DescField | undefined = message?.fields.find((f) => f.name === name || f.jsonName === name);
    if (field === undefined) return undefined;
    chain.push(field);
    message = field.fieldKind === "message" ? field.message : undefined;
  }
  const last = chain[chain.length - 1];
  const scalar = last.fieldKind === "scalar" || last.fieldKind === "enum" || (last.fieldKind === "list" && last.listKind !== "message") || (last.fieldKind === "message" && isScalarWkt(last.message));
  if (!scalar) throw new FerryError(Code.INVALID_ARGUMENT, `query parameter ${quoteInput(key)} names a ${last.fieldKind === "map" ? "map" : "message"} field; only scalar and repeated scalar fields can be query parameters`);
  return chain;
}

/** A path or query value as the JSON the field's mapping expects: bools and enum numbers converted, everything else as the string. */
function scalarJson(field: DescField, value: string): JsonValue {
  const scalar = field.fieldKind === "scalar" || field.fieldKind === "list" ? field.scalar : undefined;
  if (scalar === ScalarType.BOOL) {
    if (value === "true" || value === "false") return value === "true";
    throw new FerryError(Code.INVALID_ARGUMENT, `field ${field.name} takes true or false, got ${quoteInput(value)}`);
  }
  const isEnum = field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum");
  if (isEnum && /^-?[0-9]+$/.test(value)) return Number(value);
  return value;
}

/** Sets `value` at the field path, creating the messages on the way (keeping what the body already put there). */
function setPath(json: JsonObject, chain: readonly DescField[], value: JsonValue): void {
  let node = json;
  for (let i = 0; i < chain.length - 1; i++) {
    const key = chain[i].jsonName;
    const next = node[key];
    if (!isObject(next)) node[key] = Object.create(null) as JsonObject;
    node = node[key] as JsonObject;
  }
  const last = chain[chain.length - 1];
  if (last.name !== last.jsonName) delete node[last.name]; // the body's spelling by .proto name would clash with the bound value
  node[last.jsonName] = value;
}

/** True when the body or a path variable already set the field (query parameters never override them). */
function isBound(json: JsonObject, chain: readonly DescField[]): boolean {
  let node: JsonValue | undefined = json;
  for (const field of chain) {
    if (!isObject(node)) return false;
    node = node[field.jsonName] ?? node[field.name];
    if (node === undefined) return false;
  }
  return true;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new FerryError(Code.INVALID_ARGUMENT, `request body is not valid JSON: ${(err as Error).message}`);
  }
}
