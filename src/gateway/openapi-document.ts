import type { DescField, DescMessage, DescService } from "@bufbuild/protobuf";
import { routesFromServices, type HttpRoute } from "./http-route.js";
import { OpenApiSchemas, type JsonSchema } from "./openapi-schema.js";
import { isScalarWkt } from "./http-route.js";

/** Options of {@link createOpenApiDocument}. */
export interface OpenApiOptions {
  /** `info.title`. Default `"API"`. */
  title?: string;
  /** `info.version`, the API's version (not OpenAPI's). Default `"1.0.0"`. */
  version?: string;
  /** `info.description`. */
  description?: string;
  /** `servers[].url`, e.g. `["https://api.example.com"]`. Default none (relative to where the document is served). */
  servers?: readonly string[];
  /** Declare HTTP Bearer authentication (JWT) for every operation, as the gateway's `verifier` checks it. Default false. */
  bearerAuth?: boolean;
}

/** The error object the gateway answers with (its default, Connect-style form). */
const errorSchema: JsonSchema = {
  type: "object",
  properties: {
    code: { type: "string", description: "the status code in lower snake case (not_found, invalid_argument, …)" },
    message: { type: "string" },
    details: { type: "array", items: { type: "object", properties: { type: { type: "string" }, value: { type: "string", contentEncoding: "base64" }, debug: {} }, required: ["type", "value"] } },
  },
  required: ["code", "message"],
};

/**
 * An OpenAPI 3.1 document of the HTTP routes that `google.api.http`
 * declares on `services` (the routes the gateway serves, see
 * docs/gateway.md): one operation per route (`additional_bindings`
 * included), operationId `Service_Method` (`Service_Method_2`, … for more
 * bindings), path and query parameters and the request body as the rule
 * binds them, the response as protobuf's JSON mapping (or the
 * `response_body` field), server-streaming methods as `application/x-ndjson`
 * and `text/event-stream`, and the gateway's error object as the default
 * response. Schemas are named by full protobuf name.
 *
 * @throws FerryError INVALID_ARGUMENT for HTTP rules the gateway would refuse.
 */
export function createOpenApiDocument(services: readonly DescService[], options: OpenApiOptions = {}): Record<string, unknown> {
  const schemas = new OpenApiSchemas();
  const paths: Record<string, Record<string, unknown>> = {};
  const seen = new Map<string, number>();
  for (const route of routesFromServices(services)) {
    const base = `${route.method.service.name}_${route.method.method.name}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const path = openApiPath(route);
    paths[path] ??= {};
    paths[path][route.verb.toLowerCase()] = operation(route, n === 1 ? base : `${base}_${n}`, schemas);
  }
  const doc: Record<string, unknown> = {
    openapi: "3.1.0",
    info: { title: options.title ?? "API", version: options.version ?? "1.0.0", ...(options.description === undefined ? {} : { description: options.description }) },
  };
  if (options.servers !== undefined) doc.servers = options.servers.map((url) => ({ url }));
  doc.tags = services.filter((s) => routesFromServices([s]).length > 0).map((s) => ({ name: s.name, description: s.typeName }));
  doc.paths = paths;
  const components: Record<string, unknown> = { schemas: { ...schemas.schemas, "ferry.Error": errorSchema } };
  if (options.bearerAuth === true) {
    components.securitySchemes = { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } };
    doc.security = [{ bearerAuth: [] }];
  }
  doc.components = components;
  return doc;
}

/** The template as an OpenAPI path: each variable as `{field.path}` (its captured sub-path in one parameter), then the verb. */
function openApiPath(route: HttpRoute): string {
  const source = route.template.source;
  const verb = route.template.verb;
  const withoutVerb = verb === undefined ? source : source.slice(0, -(verb.length + 1));
  return withoutVerb.replace(/\{([^}=]+)(=[^}]*)?\}/g, "{$1}") + (verb === undefined ? "" : `:${verb}`);
}

function operation(route: HttpRoute, operationId: string, schemas: OpenApiSchemas): Record<string, unknown> {
  const info = route.method;
  const op: Record<string, unknown> = { operationId, tags: [info.service.name], summary: `${info.service.name}.${info.method.name}` };
  const parameters = [...pathParameters(route, schemas), ...(route.body === "*" ? [] : queryParameters(route, schemas))];
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body !== "") {
    const schema = route.bodyField !== undefined ? schemas.field(route.bodyField) : schemas.message(info.input);
    op.requestBody = { required: route.bodyField === undefined ? false : true, content: { "application/json": { schema } } };
  }
  const ok = route.responseBody !== undefined ? schemas.field(route.responseBody) : schemas.message(info.output);
  const content = info.responseStream
    ? {
        "application/x-ndjson": { schema: { description: "one JSON object per line", type: "object", properties: { result: ok, error: { $ref: "#/components/schemas/ferry.Error" } } } },
        "text/event-stream": { schema: { description: "server-sent events: `data:` per message, `event: error`, `event: end`", type: "string" } },
      }
    : { "application/json": { schema: ok } };
  op.responses = {
    "200": { description: info.responseStream ? "a stream of messages" : "OK", content },
    default: { description: "an error", content: { "application/json": { schema: { $ref: "#/components/schemas/ferry.Error" } } } },
  };
  return op;
}

function pathParameters(route: HttpRoute, schemas: OpenApiSchemas): Record<string, unknown>[] {
  return [...route.pathFields].map(([name, chain]) => ({ name, in: "path", required: true, schema: schemas.field(chain[chain.length - 1]) }));
}

/** Query parameters: the scalar fields (nested by dotted path, two levels deep) that neither the path nor the body binds. */
function queryParameters(route: HttpRoute, schemas: OpenApiSchemas): Record<string, unknown>[] {
  const bound = new Set([...route.pathFields.keys()]);
  if (route.bodyField !== undefined) bound.add(route.bodyField.name);
  const out: Record<string, unknown>[] = [];
  const visit = (message: DescMessage, prefix: string, depth: number) => {
    for (const field of message.fields) {
      const name = prefix + field.name;
      if (bound.has(name)) continue;
      if (isQueryable(field)) {
        const schema = schemas.field(field);
        out.push(field.fieldKind === "list" ? { name, in: "query", schema, style: "form", explode: true } : { name, in: "query", schema });
      } else if (field.fieldKind === "message" && depth < 2) visit(field.message, `${name}.`, depth + 1);
    }
  };
  visit(route.method.input, "", 0);
  return out;
}

function isQueryable(field: DescField): boolean {
  if (field.fieldKind === "scalar" || field.fieldKind === "enum") return true;
  if (field.fieldKind === "list") return field.listKind !== "message";
  return field.fieldKind === "message" && isScalarWkt(field.message);
}
