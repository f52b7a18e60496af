import { getOption, hasOption, type DescField, type DescService } from "@bufbuild/protobuf";
import { http } from "../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../gen/google/api/http_pb.js";
import { methodInfo, type MethodInfo } from "../contract/method-info.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { PathTemplate } from "./path-template.js";

/** One HTTP route of the gateway: a verb and path template bound to a unary method. */
export interface HttpRoute {
  readonly verb: string;
  readonly template: PathTemplate;
  /** `"*"` (the whole request message), a top-level field name, or `""` (no body). */
  readonly body: string;
  readonly method: MethodInfo;
  /** Path variables' fields, resolved once. */
  readonly pathFields: ReadonlyMap<string, DescField>;
}

/**
 * The routes declared by the `google.api.http` option on the methods of
 * `services` (google/api/http.proto), including `additional_bindings`.
 * Methods without the option get no route. Raises INVALID_ARGUMENT for a
 * streaming method with a route, a path variable that names no field, or an
 * unsupported template.
 */
export function routesFromServices(services: readonly DescService[]): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      if (!hasOption(method, http)) continue;
      const info = methodInfo(method);
      if (info.kind !== "unary") throw new FerryError(Code.INVALID_ARGUMENT, `${info.path}: only unary methods can have an HTTP route`);
      const rule = getOption(method, http);
      for (const r of [rule, ...rule.additionalBindings]) routes.push(toRoute(info, r));
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
  const pathFields = new Map<string, DescField>();
  for (const v of template.variables) {
    const field = info.input.fields.find((f) => f.name === v);
    if (field === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `${info.path}: path variable {${v}} names no field of ${info.input.typeName}`);
    pathFields.set(v, field);
  }
  if (rule.body !== "" && rule.body !== "*" && !info.input.fields.some((f) => f.name === rule.body)) {
    throw new FerryError(Code.INVALID_ARGUMENT, `${info.path}: body "${rule.body}" names no field of ${info.input.typeName}`);
  }
  return { verb, template, body: rule.body, method: info, pathFields };
}
