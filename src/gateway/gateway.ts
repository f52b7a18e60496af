import type { DescService } from "@bufbuild/protobuf";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeJson } from "../contract/codec.js";
import type { UnaryResponse } from "../rpc/call.js";
import { createCallSignal } from "../rpc/call-signal.js";
import type { ClientTransport } from "../rpc/client-transport.js";
import { Code, codeToString } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { httpStatusFromCode } from "../rpc/http-status.js";
import { Metadata } from "../rpc/metadata.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { routesFromServices, type HttpRoute } from "./http-route.js";
import { transcodeRequest } from "./transcode-request.js";

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Services whose `google.api.http` routes the gateway serves. */
  services: readonly DescService[];
  /** Where calls go: an in-process transport, a gRPC or native transport, or a channel. */
  transport: ClientTransport;
  /** Deadline given to each call, in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Largest request body accepted, in bytes; larger get 413 with code `resource_exhausted`. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Request headers forwarded to the service as metadata. Default `["authorization", "x-request-id", "traceparent", "tracestate"]`. */
  forwardHeaders?: readonly string[];
  /** Where unexpected failures are logged. Default: Ferry's pino logger. */
  logger?: Logger;
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
 * `not_found`; a known path with another verb is 405 `unimplemented`.
 */
export function createGateway(options: GatewayOptions): Gateway {
  return new HttpGateway(options);
}

class HttpGateway implements Gateway {
  readonly routes: readonly HttpRoute[];
  readonly #logger: Logger;
  readonly #forward: readonly string[];
  #server: http.Server | undefined;

  constructor(private readonly options: GatewayOptions) {
    this.routes = routesFromServices(options.services);
    this.#logger = options.logger ?? getDefaultLogger();
    this.#forward = options.forwardHeaders ?? ["authorization", "x-request-id", "traceparent", "tracestate"];
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#serve(req, res).catch((err: unknown) => this.#sendError(res, err));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://gateway");
    const { route, values } = this.#match(req.method ?? "GET", url.pathname);
    const body = route.body === "" ? "" : await readBody(req, this.options.maxBodyBytes ?? 4 * 1024 * 1024);
    const message = transcodeRequest(route, values, url.searchParams, body);
    const ac = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) ac.abort(new FerryError(Code.CANCELLED, "HTTP client went away"));
    });
    const cs = createCallSignal({ timeoutMs: this.options.timeoutMs ?? 30_000, signal: ac.signal, parent: null }, true);
    try {
      const response = (await this.options.transport.call({
        stream: false,
        method: route.method,
        metadata: this.#metadataFrom(req),
        deadline: cs.deadline,
        signal: cs.signal,
        context: undefined,
        message,
      })) as UnaryResponse;
      sendJson(res, 200, encodeJson(route.method.output, response.message));
    } finally {
      cs.dispose();
    }
  }

  #match(verb: string, path: string): { route: HttpRoute; values: Map<string, string> } {
    let pathMatched = false;
    for (const route of this.routes) {
      const values = route.template.match(path);
      if (values === undefined) continue;
      if (route.verb === verb) return { route, values };
      pathMatched = true;
    }
    if (pathMatched) throw new FerryError(Code.UNIMPLEMENTED, `method ${verb} is not allowed on ${path}`);
    throw new FerryError(Code.NOT_FOUND, `no route for ${verb} ${path}`);
  }

  #metadataFrom(req: IncomingMessage): Metadata {
    const md = new Metadata();
    for (const name of this.#forward) {
      const v = req.headers[name];
      if (typeof v === "string") md.append(name, v);
    }
    return md;
  }

  #sendError(res: ServerResponse, err: unknown): void {
    const e = err instanceof FerryError ? err : FerryError.from(err);
    if (!(err instanceof FerryError)) this.#logger.error({ err }, "gateway request failed");
    let status = httpStatusFromCode(e.code);
    if (e.code === Code.UNIMPLEMENTED && e.rawMessage.startsWith("method ")) status = 405;
    if (e.code === Code.RESOURCE_EXHAUSTED && e.rawMessage.startsWith("request body")) status = 413;
    if (res.headersSent) return void res.destroy();
    sendJson(res, status, { code: codeToString(e.code), message: e.rawMessage });
  }

  listen(port: number, host = "127.0.0.1"): Promise<string> {
    const server = http.createServer((req, res) => this.handle(req, res));
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        reject(new FerryError(Code.RESOURCE_EXHAUSTED, `request body exceeds the limit of ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}
