/**
 * The OTLP/HTTP receiver: `POST /v1/traces` and `POST /v1/metrics` in both
 * encodings the specification defines — binary protobuf
 * (`Content-Type: application/x-protobuf`, the SDKs' default `http/protobuf`)
 * and JSON (`application/json`) — optionally `Content-Encoding: gzip`, so
 * any OpenTelemetry SDK or Collector — Ferry's or not, on this host or
 * another — can send to the dashboard.
 *
 * Answers (OTLP specification, "OTLP/HTTP Response"), in the request's encoding:
 * - 200 with an empty `Export*ServiceResponse`, or one with `partialSuccess`
 *   (`rejectedSpans` | `rejectedDataPoints`, `errorMessage`) when some items
 *   could not be read;
 * - 400 for a body that is not the request message (bad JSON, bad protobuf);
 * - 405 for another method (`Allow: POST`);
 * - 413 for a body over `maxBodyBytes`;
 * - 415 for any other media type or content encoding.
 *
 * Every error body is a `google.rpc.Status`: `{ "code", "message" }` in
 * JSON, the binary message for a protobuf request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { grpcCodeOfHttp, HttpError, sendJson } from "./http-replies.js";
import { OtlpDecodeError } from "./otlp-common.js";
import { decodeOtlpProtobuf, encodeOtlpResponse, encodeOtlpStatus, OTLP_PROTOBUF_TYPE, type OtlpSignal } from "./otlp-protobuf.js";
import { decodeOtlpTraces } from "./otlp-traces.js";
import { readBody, readJsonBody } from "./request-body.js";
import type { TelemetrySink } from "./telemetry-sink.js";

/** The receiver's paths. */
export const OTLP_TRACES_PATH = "/v1/traces";
export const OTLP_METRICS_PATH = "/v1/metrics";

/** Handles one OTLP/HTTP request for `path`; throws {@link HttpError} for the 4xx answers of a JSON request. */
export async function receiveOtlp(req: IncomingMessage, res: ServerResponse, path: string, sink: TelemetrySink, maxBodyBytes: number): Promise<void> {
  if (req.method !== "POST") throw new HttpError(405, `${path} accepts POST only (OTLP/HTTP)`, { allow: "POST" });
  const signal: OtlpSignal = path === OTLP_TRACES_PATH ? "traces" : "metrics";
  const binary = isProtobuf(req.headers["content-type"]);
  try {
    const body = binary ? decodeOtlpProtobuf(signal, await readBody(req, maxBodyBytes)) : await readJsonBody(req, maxBodyBytes);
    const { rejected, errorMessage } = store(signal, body, sink);
    if (binary) sendProtobuf(res, 200, encodeOtlpResponse(signal, rejected, errorMessage));
    else if (rejected === 0) sendJson(res, {});
    else sendJson(res, { partialSuccess: { [signal === "traces" ? "rejectedSpans" : "rejectedDataPoints"]: String(rejected), errorMessage } });
  } catch (err) {
    const answer = err instanceof OtlpDecodeError ? new HttpError(400, `not an OTLP/${binary ? "protobuf" : "JSON"} request: ${err.message}`) : err;
    if (!binary || !(answer instanceof HttpError)) throw answer;
    sendProtobuf(res, answer.status, encodeOtlpStatus(grpcCodeOfHttp(answer.status), answer.message), answer.status === 413 ? { connection: "close" } : {});
  }
}

/** Stores a decoded request; how many items were left out and why. */
function store(signal: OtlpSignal, body: unknown, sink: TelemetrySink): { rejected: number; errorMessage: string } {
  if (signal === "traces") {
    const decoded = decodeOtlpTraces(body, sink.spanLimits);
    sink.addSpans(decoded.spans);
    return { rejected: decoded.rejected, errorMessage: decoded.firstError ?? "" };
  }
  const result = sink.addMetrics(body);
  return { rejected: result.rejected, errorMessage: result.rejected === 0 ? "" : "some data points have no numeric value or an unknown type" };
}

/** True for the binary encoding; throws 415 for a media type that is neither. */
function isProtobuf(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") return false;
  if (type === OTLP_PROTOBUF_TYPE || type === "application/protobuf") return true;
  throw new HttpError(415, `Content-Type "${type}" is not supported: send application/x-protobuf (OTLP/protobuf) or application/json (OTLP/JSON)`);
}

function sendProtobuf(res: ServerResponse, status: number, body: Uint8Array, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { "content-type": OTLP_PROTOBUF_TYPE, "content-length": body.byteLength, "cache-control": "no-store", ...headers });
  res.end(body);
}
