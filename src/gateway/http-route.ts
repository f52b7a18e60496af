import { getOption, hasOption, type DescField, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { http } from "../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../gen/google/api/http_pb.js";
import { methodInfo, type MethodInfo } from "../contract/method-info.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { PathTemplate } from "./path-template.js";

/** One HTTP route of the gateway: a verb and path template bound to a unary or server-streaming method. */
export interface HttpRoute {
  readonly verb: string;
  readonly template: PathTemplate;
  /** `"*"` (the whole request message), a top-level field name, or `""` (no body). */
  readonly body: string;
  /** The top-level request field the body fills (`body: "field"`), resolved once. */
  readonly bodyField: DescField | undefined;
  /** The response field sent as the body (`response_body`), or `undefined` for the whole response. */
  readonly responseBody: DescField | undefined;
  readonly method: MethodInfo;
  /** Path variables' fields, resolved once: the chain of fields of each field path (`book.shelf_id` → [book, shelf_id]). */
  readonly pathFields: ReadonlyMap<string, readonly DescField[]>;
}

/**
 * The routes declared by the `google.api.http` option on the methods of
 * `services` (google/api/http.proto), including `additional_bindings`.
 * Methods without the option get no route. Server-streaming methods get
 * routes too (answered as NDJSON or server-sent events).
 *
 * @throws FerryError INVALID_ARGUMENT for a client- or bidi-streaming
 * method with a route, a path variable that names no field (or a repeated
 * or message field), a `body` or `response_body` naming no top-level field,
 * or a template outside the grammar.
 */
export function routesFromServices(services: readonly DescService[]): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      if (!hasOption(method, http)) continue;
      const info = methodInfo(method);
      if (info.requestStream) throw new FerryError(Code.INVALID_ARGUMENT, `${info.path}: a ${info.kind.replace("_", " ")} method cannot have an HTTP route (HTTP/JSON requests carry one message)`);
      const rule = getOption(method, http);
      for (const r of [rule, ...rule.additionalBindings]) {
        if (r !== rule && r.additionalBindings.length > 0) throw new FerryError(Code.INVALID_ARGUMENT, `${info.path}: additional_bindings cannot nest (google.api.http)`);
        routes.push(toRoute(info, r));
      }
    }
  }
  return routes;
}

function toRoute(info: MethodInfo, rule: HttpRule): HttpRoute {
  const { case: verbCase, value } = rule.pattern;
  if (verbCase === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `${info.path}: HTTP rule has no pattern`);
  const verb = verbCase === "custom" ? value.kind.toUpperCase() : verbCase.toUpperCase();
  const path = verbCase === "custom" ? value.path : value;
  const template = new PathTemplate(path);
  const pathFields = new Map<string, readonly DescField[]>();
  for (const v of template.variables) pathFields.set(v, resolvePathField(info, v));
  let bodyField: DescField | undefined;
  if (rule.body !== "" && rule.body !== "*") {
    bodyField = info.input.fields.find((f) => f.name === rule.body);
    if (bodyField === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `${info.path}: body "${rule.body}" names no top-level field of ${info.input.typeName}`);
  }
  let responseBody: DescField | undefined;
  if (rule.responseBody !== "") {
    responseBody = info.output.fields.find((f) => f.name === rule.responseBody);
    if (responseBody === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `${info.path}: response_body "${rule.responseBody}" names no top-level field of ${info.output.typeName}`);
  }
  return { verb, template, body: rule.body, bodyField, responseBody, method: info, pathFields };
}

/** The fields along `fieldPath` (`a.b.c`): each but the last a singular message field; the last a singular non-message field. */
function resolvePathField(info: MethodInfo, fieldPath: string): DescField[] {
  const chain: DescField[] = [];
  let message: DescMessage | undefined = info.input;
  for (const name of fieldPath.split(".")) {
    const field: DescField | undefined = message?.fields.find((f) => f.name === name);
    if (field === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `${info.path}: path variable {${fieldPath}} names no field of ${info.input.typeName}`);
    chain.push(field);
    message = field.fieldKind === "message" ? field.message : undefined;
  }
  const last = chain[chain.length - 1];
  if (last.fieldKind === "list" || last.fieldKind === "map" || (last.fieldKind === "message" && !isScalarWkt(last.message))) {
    throw new FerryError(Code.INVALID_ARGUMENT, `${info.path}: path variable {${fieldPath}} must name a singular scalar field`);
  }
  return chain;
}

/** The well-known types whose JSON form is one string or number (so a path or query value can fill them). */
export function isScalarWkt(message: DescMessage): boolean {
  return scalarWkts.has(message.typeName);
}

const scalarWkts = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);
