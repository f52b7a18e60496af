import { Code } from "./code.js";

const toHttp: Record<Code, number> = {
  [Code.OK]: 200,
  [Code.CANCELLED]: 499,
  [Code.UNKNOWN]: 500,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.DEADLINE_EXCEEDED]: 504,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.PERMISSION_DENIED]: 403,
  [Code.RESOURCE_EXHAUSTED]: 429,
  [Code.FAILED_PRECONDITION]: 409,
  [Code.ABORTED]: 409,
  [Code.OUT_OF_RANGE]: 400,
  [Code.UNIMPLEMENTED]: 501,
  [Code.INTERNAL]: 500,
  [Code.UNAVAILABLE]: 503,
  [Code.DATA_LOSS]: 500,
  [Code.UNAUTHENTICATED]: 401,
};

/**
 * The HTTP status that stands for a status code in JSON APIs, following the
 * mapping of google/rpc/code.proto (and Connect's): NOT_FOUND → 404,
 * INVALID_ARGUMENT → 400, FAILED_PRECONDITION → 409 (Connect's choice; the
 * google mapping says 400), UNAVAILABLE → 503, DEADLINE_EXCEEDED → 504, and so on.
 */
export function httpStatusFromCode(code: Code): number {
  return toHttp[code] ?? 500;
}

/**
 * The code a gRPC client reports when an HTTP response is not a gRPC response,
 * per gRPC doc/http-grpc-status-mapping.md (400 → INTERNAL, 401 →
 * UNAUTHENTICATED, 403 → PERMISSION_DENIED, 404 → UNIMPLEMENTED, 429, 502, 503,
 * 504 → UNAVAILABLE, anything else → UNKNOWN).
 */
export function codeFromHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.INTERNAL;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.UNAVAILABLE;
    default:
      return Code.UNKNOWN;
  }
}
