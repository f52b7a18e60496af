/**
 * JSON replies of the dashboard's HTTP server. Errors carry a
 * `google.rpc.Status`-shaped body (`{ code, message }`, code a gRPC status
 * number), as the OTLP/HTTP specification asks for 4xx/5xx responses in the
 * request's encoding; the HTTP status says what the client should do.
 */
import type { ServerResponse } from "node:http";

/** gRPC status numbers used in error bodies, by HTTP status (OTLP/HTTP: "Failures"). */
const GRPC_CODE_OF_HTTP: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  405: 12, // UNIMPLEMENTED
  413: 8, // RESOURCE_EXHAUSTED
  415: 3, // INVALID_ARGUMENT
  501: 12, // UNIMPLEMENTED
  502: 14, // UNAVAILABLE
  503: 14, // UNAVAILABLE
};

/** The gRPC status number an error answer with HTTP `status` carries (13 INTERNAL for others). */
export function grpcCodeOfHttp(status: number): number {
  return GRPC_CODE_OF_HTTP[status] ?? 13;
}

/** An error the request handler answers with `status` and a JSON body, instead of crashing. */
export class HttpError extends Error {
  override readonly name = "HttpError";

  /**
   * @param status the HTTP status (400, 401, 403, 404, 405, 413, 415, 501, 502, 503).
   * @param message what went wrong and how to fix it, for the body.
   * @param headers extra response headers (`Allow`, `WWW-Authenticate`).
   */
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Writes `body` as JSON with `status` (default 200); never cached. */
export function sendJson(res: ServerResponse, body: unknown, status = 200, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** Answers an error: `HttpError` with its status, anything else with 500 (message kept generic). */
export function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = error instanceof HttpError ? error.status : 500;
  const message = error instanceof HttpError ? error.message : "internal error in the Ferry dashboard";
  const headers = error instanceof HttpError ? error.headers : {};
  sendJson(res, { code: grpcCodeOfHttp(status), message }, status, { ...headers, connection: status === 413 ? "close" : "keep-alive" });
}
