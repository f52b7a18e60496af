import type { DescField, JsonObject, JsonValue, Message } from "@bufbuild/protobuf";
import { decodeJson } from "../contract/codec.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { HttpRoute } from "./http-route.js";
import { quoteInput } from "./http-input.js";

/**
 * Builds a route's request message from the HTTP request, per
 * google.api.http's rules: the body (all of it for `body: "*"`, or one
 * field), then path variables, then — for fields bound by neither — query
 * parameters. Values use protobuf's JSON mapping, so `"5"` fills an int32.
 * A query parameter names a top-level field by its .proto or JSON name; a
 * repeated field takes every occurrence, any other field the first one. An
 * unknown query parameter is INVALID_ARGUMENT naming it as a query
 * parameter (quoted up to 64 characters).
 *
 * Raises INVALID_ARGUMENT for a body that is not JSON or not an object, for
 * unknown fields and for values of the wrong type; the message names the
 * field. Keys such as `__proto__` are plain data here and never reach an
 * object prototype: the JSON object is built with a null prototype.
 */
export function transcodeRequest(route: HttpRoute, pathValues: Map<string, string>, query: URLSearchParams, bodyText: string): Message {
  const json: JsonObject = Object.create(null) as JsonObject;
  if (route.body !== "" && bodyText.trim() !== "") {
    const body = parseJson(bodyText);
    if (route.body === "*") {
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new FerryError(Code.INVALID_ARGUMENT, "request body must be a JSON object");
      }
      for (const key of Object.keys(body)) json[key] = (body as JsonObject)[key];
    } else {
      json[jsonNameOf(route, route.body)] = body;
    }
  }
  for (const [name, value] of pathValues) json[route.pathFields.get(name)!.jsonName] = value;
  if (route.body !== "*") {
    const bound = new Set(Object.keys(json));
    for (const key of new Set(query.keys())) {
      const field = queryField(route, key);
      if (field === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `unknown query parameter ${quoteInput(key)}: ${route.method.input.typeName} has no such field`);
      if (bound.has(field.jsonName)) continue;
      const values = query.getAll(key);
      json[field.jsonName] = field.fieldKind === "list" ? values : values[0];
    }
  }
  return decodeJson(route.method.input, json);
}

/** The top-level field a query parameter names, by .proto name or JSON name. */
function queryField(route: HttpRoute, key: string): DescField | undefined {
  return route.method.input.fields.find((f) => f.name === key || f.jsonName === key);
}

function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new FerryError(Code.INVALID_ARGUMENT, `request body is not valid JSON: ${(err as Error).message}`);
  }
}

function jsonNameOf(route: HttpRoute, fieldName: string): string {
  return route.method.input.fields.find((f) => f.name === fieldName)?.jsonName ?? fieldName;
}
