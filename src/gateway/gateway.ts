import type { DescService, JsonValue, Message, Registry } from "@bufbuild/protobuf";
import { toJson } from "@bufbuild/protobuf";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeJson } from "../contract/codec.js";
import type { AnyResponse } from "../rpc/call.js";
import { createCallSignal } from "../rpc/call-signal.js";
import type { ClientTransport } from "../rpc/client-transport.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { httpStatusFromCode } from "../rpc/http-status.js";
import { Metadata } from "../rpc/metadata.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import type { JwtVerifier } from "../auth/jwt-verifier.js";
import { CorsPolicy, type CorsOptions } from "./cors.js";
import { createMemoryRateLimitStore, type RateLimitStore } from "./edge-rate-limit.js";
import { answerHttp1ClientError } from "../util/http1-client-error.js";
import { checkRequestTarget, HttpInputError, quoteInput, readRequestBody } from "./http-input.js";
import { routesFromServices, type HttpRoute } from "./http-route.js";
import { injectTraceContext, recordHttpRoute, traceHttpRequest } from "../observability/http-server-telemetry.js";
import { transcodeRequest } from "./transcode-request.js";
import { contractRegistry } from "./contract-registry.js";
import { gatewayErrorBody, type GatewayErrorFormat } from "./gateway-error-body.js";
import { httpStreamFormat, sendHttpStream } from "./http-stream-response.js";
import { ApiDocs } from "./api-docs.js";
import type { OpenApiOptions } from "./openapi-document.js";
import type { AsyncApiOptions } from "./asyncapi-document.js";
import type { Topic } from "../messaging/topic.js";

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Services whose `google.api.http` routes the gateway serves. */
  services: readonly DescService[];
  /** Where calls go: an in-process transport, a gRPC or native transport, or a channel. */
  transport: ClientTransport;
  /** Deadline given to each unary call, in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Deadline given to each server-streaming call (NDJSON or SSE), in milliseconds. Default none: the stream lasts until it ends or the client goes away. */
  streamTimeoutMs?: number;
  /** Interval of the keep-alive comment lines of server-sent event streams, in milliseconds. Default 15 000. */
  sseHeartbeatMs?: number;
  /**
   * Types for the JSON of `google.protobuf.Any` fields and error details.
   * Default: every type in the files declaring `services` and their imports,
   * plus the well-known types.
   */
  registry?: Registry;
  /** The JSON form of error answers; see {@link GatewayErrorFormat}. Default `"connect"`. */
  errorFormat?: GatewayErrorFormat;
  /**
   * Serve the API's description: `GET /openapi.json` (OpenAPI 3.1 of the
   * routes, `createOpenApiDocument`) and `GET /docs` (Swagger UI; needs the
   * optional peer `swagger-ui-dist`). `true` or the document's options
   * (title, version, servers, bearerAuth). Default off.
   */
  openapi?: boolean | OpenApiOptions;
  /** Serve `GET /asyncapi.json`: an AsyncAPI 3.0 document of these topics (`createAsyncApiDocument`). Default off. */
  asyncapi?: AsyncApiOptions & { readonly topics: readonly Topic[] };
  /**
   * Largest request body accepted, in bytes, after decompression
   * (`Content-Encoding: gzip` or `deflate`); larger get 413 with code
   * `resource_exhausted`. A declared `Content-Length` over it is refused
   * before reading. Default 4 MiB.
   */
  maxBodyBytes?: number;
  /** Longest request URL (path and query), in bytes; longer get 414. Default 8192. */
  maxUrlBytes?: number;
  /** Largest request header block (request line included), in bytes, for the server started by `listen`; larger get 431 (414 when the request line alone is). Default 16 384. */
  maxHeaderBytes?: number;
  /** Longest error message sent, in characters; longer ones (a handler quoting a 3 MB input) are cut with a note. Default 1024. */
  maxErrorMessageChars?: number;
  /** Cross-origin requests from browsers (Fetch standard CORS). Default none: no CORS headers, preflights get 405. */
  cors?: CorsOptions;
  /** Requests per second per principal or client IP (token bucket): over the rate, 429 with `Retry-After` (RFC 6585 §4). Default none. */
  rateLimit?: GatewayRateLimitOptions;
  /**
   * Verify Bearer tokens at the edge as well: an invalid token is answered
   * 401 without calling the service, and a valid token's `sub` keys the rate
   * limit. The services still authenticate every call themselves (the
   * `authorization` header is forwarded). Default none.
   */
  verifier?: JwtVerifier;
  /** Request headers forwarded to the service as metadata. Default `["authorization", "x-request-id", "traceparent", "tracestate"]`. */
  forwardHeaders?: readonly string[];
  /** Where unexpected failures are logged. Default: Ferry's pino logger. */
  logger?: Logger;
  /**
   * Plain JSON endpoints served beside the RPC routes, with the same CORS,
   * rate limit and input checks (for example a development token endpoint
   * and `/.well-known/jwks.json`). Matched by exact path before the RPC
   * routes. Default none.
   */
  jsonRoutes?: readonly GatewayJsonRoute[];
}

/** A plain JSON endpoint of the gateway; see {@link GatewayOptions.jsonRoutes}. */
export interface GatewayJsonRoute {
  /** The HTTP method, upper case: `"GET"`, `"POST"`, … */
  readonly verb: string;
  /** The exact request path, e.g. `"/.well-known/jwks.json"`. */
  readonly path: string;
  /**
   * Produces the answer: its return value is sent as JSON with 200. `body`
   * is the parsed JSON request body (`undefined` without one). Throw a
   * FerryError for an error answer (`{code, message}` with the code's HTTP status).
   */
  handle(request: { readonly body: unknown; readonly headers: IncomingMessage["headers"] }): unknown;
}

/** Options of the gateway's rate limit. */
export interface GatewayRateLimitOptions {
  /** Tokens added per second, per key (> 0). Required. */
  ratePerSecond: number;
  /** Bucket size: the largest burst at once (≥ 1). Default `max(1, ratePerSecond)`. */
  burst?: number;
  /** Where buckets live: in memory (default, `createMemoryRateLimitStore()`) or Redis (`createRedisRateLimitStore`) for several gateway instances. */
  store?: RateLimitStore;
  /**
   * The bucket of a request. Default: `sub:` + the verified token's subject
   * when `verifier` is set and the token is valid, else `ip:` + the client's
   * address (`clientIp`).
   */
  key?: (req: IncomingMessage, subject: string | undefined) => string;
  /** The client's address. Default the socket's remote address; behind a proxy, read the proxy's header here. */
  clientIp?: (req: IncomingMessage) => string;
  /** When the store fails (Redis down): `"allow"` the request (logged) or `"deny"` it with 503. Default `"allow"`. */
  onStoreError?: "allow" | "deny";
}

/** A running gateway. */
export interface Gateway {
  /** The routes served, for logs and docs. */
  readonly routes: readonly HttpRoute[];
  /** Handles one HTTP request; usable inside another `node:http` server. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Starts a `node:http` server on `port` (0 picks one) and `host` (default 127.0.0.1); resolves with its URL. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
}

/**
 * Creates the HTTP/JSON gateway: REST routes from `google.api.http`
 * annotations transcoded onto unary RPC methods (the HTTP rule's mapping:
 * path variables, body, query parameters; protobuf's JSON mapping both ways).
 *
 * Responses are `200` with the response message as JSON. Errors are
 * `{"code": "not_found", "message": "…"}` with the HTTP status mapped from the
 * status code (NOT_FOUND 404, INVALID_ARGUMENT 400, FAILED_PRECONDITION 409,
 * UNAVAILABLE 503, …; see `httpStatusFromCode`). An unknown path is 404
 * `not_found`; a known path with another verb is 405 `unimplemented` with
 * `Allow` listing the verbs it has. UNAUTHENTICATED (401) and
 * PERMISSION_DENIED (403) carry the service's `WWW-Authenticate` challenge
 * (RFC 6750 §3); RESOURCE_EXHAUSTED from the rate limit is 429 with
 * `Retry-After` in seconds.
 *
 * Bad input always gets a JSON `{code, message}` answer, never a reset
 * connection or a bare status line: a body over `maxBodyBytes` 413, a URL
 * over `maxUrlBytes` 414, headers over `maxHeaderBytes` 431, bytes outside
 * ASCII in the request line or malformed percent-escapes 400, an unknown
 * query parameter 400 naming it, an unsupported `Content-Encoding` 415.
 * Messages quote request input only up to 64 characters, and no message is
 * longer than `maxErrorMessageChars`.
 */
export function createGateway(options: GatewayOptions): Gateway {
  return new HttpGateway(options);
}

class HttpGateway implements Gateway {
  readonly routes: readonly HttpRoute[];
  readonly #logger: Logger;
  readonly #forward: readonly string[];
  readonly #maxBodyBytes: number;
  readonly #maxUrlBytes: number;
  readonly #maxHeaderBytes: number;
  readonly #maxErrorMessageChars: number;
  readonly #cors: CorsPolicy | undefined;
  readonly #rateLimit: { readonly options: GatewayRateLimitOptions; readonly store: RateLimitStore; readonly burst: number } | undefined;
  readonly #jsonRoutes = new Map<string, GatewayJsonRoute[]>();
  /** Requests that already took their rate-limit token. */
  readonly #admitted = new WeakSet<IncomingMessage>();
  readonly #registry: Registry;
  readonly #matchOrder: readonly HttpRoute[];
  readonly #apiDocs: ApiDocs | undefined;
  #server: http.Server | undefined;

  constructor(private readonly options: GatewayOptions) {
    this.routes = routesFromServices(options.services);
    // Templates with a custom verb first: `/v1/{name=books/*}` would otherwise take `/v1/books/1:title` too.
    this.#matchOrder = [...this.routes.filter((r) => r.template.verb !== undefined), ...this.routes.filter((r) => r.template.verb === undefined)];
    this.#registry = options.registry ?? contractRegistry(options.services);
    const openapi = options.openapi;
    const docsOn = (openapi !== undefined && openapi !== false) || options.asyncapi !== undefined;
    this.#apiDocs = docsOn ? new ApiDocs(options.services, typeof openapi === "object" ? openapi : openapi === true ? {} : undefined, options.asyncapi) : undefined;
    if (options.streamTimeoutMs !== undefined) positive(options.streamTimeoutMs, 1, "streamTimeoutMs");
    positive(options.sseHeartbeatMs, 1, "sseHeartbeatMs");
    this.#logger = options.logger ?? getDefaultLogger();
    this.#forward = options.forwardHeaders ?? ["authorization", "x-request-id", "traceparent", "tracestate"];
    this.#maxBodyBytes = positive(options.maxBodyBytes, 4 * 1024 * 1024, "maxBodyBytes");
    this.#maxUrlBytes = positive(options.maxUrlBytes, 8192, "maxUrlBytes");
    this.#maxHeaderBytes = positive(options.maxHeaderBytes, 16_384, "maxHeaderBytes");
    this.#maxErrorMessageChars = positive(options.maxErrorMessageChars, 1024, "maxErrorMessageChars");
    this.#cors = options.cors === undefined ? undefined : new CorsPolicy(options.cors);
    for (const r of options.jsonRoutes ?? []) {
      const list = this.#jsonRoutes.get(r.path) ?? [];
      list.push(r);
      this.#jsonRoutes.set(r.path, list);
    }
    const rl = options.rateLimit;
    if (rl !== undefined) {
      if (!(rl.ratePerSecond > 0) || !Number.isFinite(rl.ratePerSecond)) throw new FerryError(Code.INVALID_ARGUMENT, `gateway rateLimit.ratePerSecond must be a finite number > 0, got ${rl.ratePerSecond}`);
      const burst = rl.burst ?? Math.max(1, rl.ratePerSecond);
      if (!(burst >= 1) || !Number.isFinite(burst)) throw new FerryError(Code.INVALID_ARGUMENT, `gateway rateLimit.burst must be a finite number >= 1, got ${rl.burst}`);
      this.#rateLimit = { options: rl, store: rl.store ?? createMemoryRateLimitStore(), burst };
    }
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    // Observability: one HTTP SERVER span per request (src/observability/http-server-telemetry.ts).
    traceHttpRequest(req, res, () => this.#serve(req, res)).catch((err: unknown) => this.#sendError(req, res, err));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? "/";
    if (this.#cors !== undefined && CorsPolicy.isPreflight(req.method, req.headers)) {
      res.writeHead(204, { ...this.#cors.preflightHeaders(req.headers), "content-length": 0 });
      return void res.end();
    }
    // Before anything can fail: browsers read error answers only with the CORS headers.
    if (this.#cors !== undefined) for (const [k, v] of Object.entries(this.#cors.responseHeaders(req.headers))) res.setHeader(k, v);
    checkRequestTarget(rawUrl, this.#maxUrlBytes);
    const subject = await this.#edgeAuthenticate(req);
    await this.#admit(req, subject);
    const url = new URL(rawUrl, "http://gateway");
    if (this.#jsonRoutes.has(url.pathname)) return this.#serveJsonRoute(req, res, url.pathname);
    if ((req.method === "GET" || req.method === "HEAD") && this.#apiDocs?.handles(url.pathname)) return this.#apiDocs.serve(req, res, url.pathname);
    const { route, values } = this.#match(req.method ?? "GET", url.pathname);
    recordHttpRoute(req, route.template.source); // Observability: names the span after the route.
    const body = route.body === "" ? "" : (await readRequestBody(req, { maxBytes: this.#maxBodyBytes })).toString("utf8");
    const message = transcodeRequest(route, values, url.searchParams, body, this.#registry);
    const ac = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) ac.abort(new FerryError(Code.CANCELLED, "HTTP client went away"));
    });
    const streaming = route.method.responseStream;
    const timeoutMs = streaming ? this.options.streamTimeoutMs : (this.options.timeoutMs ?? 30_000);
    const cs = createCallSignal({ timeoutMs, signal: ac.signal, parent: null }, true);
    try {
      const response: AnyResponse = await this.options.transport.call({
        stream: false,
        method: route.method,
        metadata: this.#metadataFrom(req),
        deadline: cs.deadline,
        signal: cs.signal,
        context: undefined,
        message,
      });
      if (!response.stream) return sendJson(res, 200, this.#responseJson(route, response.message));
      await sendHttpStream(res, response.messages, {
        format: httpStreamFormat(req.headers.accept),
        toJson: (m) => this.#responseJson(route, m),
        errorJson: (e) => gatewayErrorBody(e, this.options.errorFormat ?? "connect", this.#maxErrorMessageChars, this.#registry),
        heartbeatMs: this.options.sseHeartbeatMs ?? 15_000,
      });
    } finally {
      cs.dispose();
    }
  }

  /** A response message as JSON: the whole message, or its `response_body` field (default values included there). */
  #responseJson(route: HttpRoute, message: Message): JsonValue {
    const field = route.responseBody;
    if (field === undefined) return encodeJson(route.method.output, message, { registry: this.#registry });
    const json = toJson(route.method.output, message, { registry: this.#registry, alwaysEmitImplicit: true }) as Record<string, JsonValue>;
    return json[field.jsonName] ?? null;
  }

  async #serveJsonRoute(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const routes = this.#jsonRoutes.get(path)!;
    const route = routes.find((r) => r.verb === req.method);
    if (route === undefined) {
      throw new HttpInputError(Code.UNIMPLEMENTED, `method ${quoteInput(req.method ?? "", 16)} is not allowed on ${quoteInput(path)}`, 405, { allow: routes.map((r) => r.verb).join(", ") });
    }
    const text = (await readRequestBody(req, { maxBytes: this.#maxBodyBytes })).toString("utf8");
    let body: unknown;
    try {
      body = text.trim() === "" ? undefined : JSON.parse(text);
    } catch (err) {
      throw new FerryError(Code.INVALID_ARGUMENT, `request body is not valid JSON: ${(err as Error).message}`);
    }
    sendJson(res, 200, await route.handle({ body, headers: req.headers }));
  }

  /** With `verifier`: the subject of a valid Bearer token, `undefined` without one; an invalid token is UNAUTHENTICATED here. */
  async #edgeAuthenticate(req: IncomingMessage): Promise<string | undefined> {
    const verifier = this.options.verifier;
    const header = req.headers.authorization;
    if (verifier === undefined || header === undefined) return undefined;
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (match === null) return undefined; // the service answers with the precise reason
    try {
      const { claims } = await verifier.verify(match[1]);
      return typeof claims.sub === "string" ? claims.sub : undefined;
    } catch (err) {
      // An invalid token still spends its client's budget before it is refused.
      await this.#admit(req, undefined);
      throw err;
    }
  }

  /** Takes a token from the request's bucket; over the rate, RESOURCE_EXHAUSTED answered 429 with Retry-After. */
  async #admit(req: IncomingMessage, subject: string | undefined): Promise<void> {
    const rl = this.#rateLimit;
    if (rl === undefined || this.#admitted.has(req)) return;
    this.#admitted.add(req);
    const o = rl.options;
    const key = o.key?.(req, subject) ?? (subject !== undefined ? `sub:${subject}` : `ip:${o.clientIp?.(req) ?? req.socket.remoteAddress ?? "unknown"}`);
    let taken;
    try {
      taken = await rl.store.take(key, o.ratePerSecond, rl.burst);
    } catch (err) {
      this.#logger.error({ err }, "gateway rate limit store failed");
      if (o.onStoreError === "deny") throw new FerryError(Code.UNAVAILABLE, "rate limit unavailable");
      return;
    }
    if (taken.allowed) return;
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    throw new FerryError(Code.RESOURCE_EXHAUSTED, `rate limit exceeded (${o.ratePerSecond}/s, burst ${rl.burst}); retry in ${seconds} s`, {
      metadata: { "retry-after": String(seconds) },
    });
  }

  #match(verb: string, path: string): { route: HttpRoute; values: Map<string, string> } {
    const allowed = new Set<string>();
    for (const route of this.#matchOrder) {
      const values = route.template.match(path);
      if (values === undefined) continue;
      if (route.verb === verb) return { route, values };
      allowed.add(route.verb);
    }
    if (allowed.size > 0) {
      throw new HttpInputError(Code.UNIMPLEMENTED, `method ${quoteInput(verb, 16)} is not allowed on ${quoteInput(path)}`, 405, { allow: [...allowed].join(", ") });
    }
    throw new FerryError(Code.NOT_FOUND, `no route for ${quoteInput(verb, 16)} ${quoteInput(path)}`);
  }

  #metadataFrom(req: IncomingMessage): Metadata {
    const md = new Metadata();
    for (const name of this.#forward) {
      const v = req.headers[name];
      if (typeof v === "string") md.append(name, v);
    }
    injectTraceContext(md); // Observability: the gateway span's W3C trace context replaces a forwarded one.
    return md;
  }

  #sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const e = err instanceof FerryError ? err : FerryError.from(err);
    if (!(err instanceof FerryError)) this.#logger.error({ err }, "gateway request failed");
    let status = httpStatusFromCode(e.code);
    const headers: Record<string, string> = {};
    if (err instanceof HttpInputError) status = err.httpStatus;
    const allow = e.metadata.getText("allow");
    if (status === 405 && allow !== undefined) headers.allow = allow;
    const challenge = e.metadata.getText("www-authenticate");
    if ((status === 401 || status === 403) && challenge !== undefined) headers["www-authenticate"] = challenge;
    const retryAfter = e.metadata.getText("retry-after");
    if (status === 429 && retryAfter !== undefined) headers["retry-after"] = retryAfter;
    if (res.headersSent) return void res.destroy();
    sendJson(res, status, gatewayErrorBody(e, this.options.errorFormat ?? "connect", this.#maxErrorMessageChars, this.#registry), headers);
    if (!req.complete) this.#drainThenClose(req, res);
  }

  /**
   * After an early answer (413, 401, …) to a request whose body is still
   * arriving: node:http discards the rest so the connection can be reused;
   * a body that has not ended within 2 s closes the connection, bounding
   * what a client can make the gateway read.
   */
  #drainThenClose(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const timer = setTimeout(() => req.socket.destroy(), 2000);
    timer.unref();
    const clear = () => clearTimeout(timer);
    req.once("end", clear);
    req.once("close", clear);
    res.once("close", () => !req.complete || clear());
  }

  listen(port: number, host = "127.0.0.1"): Promise<string> {
    const server = http.createServer({ maxHeaderSize: this.#maxHeaderBytes, requestTimeout: 300_000, headersTimeout: 60_000 }, (req, res) => this.handle(req, res));
    server.on("clientError", (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket) => answerHttp1ClientError(err, socket, this.#maxUrlBytes));
    // A declared body over the limit is refused before the client is told to send it.
    server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
      if (Number(req.headers["content-length"] ?? 0) <= this.#maxBodyBytes) res.writeContinue();
      this.handle(req, res);
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        const a = server.address() as AddressInfo;
        resolve(`http://${host.includes(":") ? `[${host}]` : host}:${a.port}`);
      });
    });
  }

  close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text), "x-content-type-options": "nosniff" });
  res.end(text);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new FerryError(Code.INVALID_ARGUMENT, `gateway ${name} must be an integer >= 1, got ${value}`);
  return value;
}
