/**
 * The OTLP/HTTP receiver: `POST /v1/traces` and `POST /v1/metrics` with the
 * JSON encoding (`Content-Type: application/json`, optionally
 * `Content-Encoding: gzip`), so any OpenTelemetry SDK or Collector — Ferry's
 * or not, on this host or another — can send to the dashboard.
 *
 * Answers (OTLP specification, "OTLP/HTTP Response"):
 * - 200 with `{}`, or `{ "partialSuccess": { "rejectedSpans" | "rejectedDataPoints", "errorMessage" } }`
 *   when some items could not be read;
 * - 400 for a body that is not JSON or not the request message's shape;
 * - 405 for another method (`Allow: POST`);
 * - 413 for a body over `maxBodyBytes`;
 * - 415 for the protobuf encoding (`application/x-protobuf`), which this
 *   receiver does not decode: configure the exporter for `http/json`, or
 *   put an OpenTelemetry Collector in between; and for any other media type.
 *
 * Every error body is `{ "code": <gRPC status>, "message": "…" }`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, sendJson } from "./http-replies.js";
import { OtlpDecodeError } from "./otlp-common.js";
import { decodeOtlpTraces } from "./otlp-traces.js";
import { readJsonBody } from "./request-body.js";
import type { TelemetrySink } from "./telemetry-sink.js";

/** The receiver's paths. */
export const OTLP_TRACES_PATH = "/v1/traces";
export const OTLP_METRICS_PATH = "/v1/metrics";

/** Handles one OTLP/HTTP request for `path`; throws {@link HttpError} for the 4xx answers above. */
export async function receiveOtlp(req: IncomingMessage, res: ServerResponse, path: string, sink: TelemetrySink, maxBodyBytes: number): Promise<void> {
  if (req.method !== "POST") throw new HttpError(405, `${path} accepts POST only (OTLP/HTTP)`, { allow: "POST" });
  checkMediaType(req.headers["content-type"]);
  const body = await readJsonBody(req, maxBodyBytes);
  try {
    if (path === OTLP_TRACES_PATH) {
      const decoded = decodeOtlpTraces(body, sink.spanLimits);
      sink.addSpans(decoded.spans);
      const partial = decoded.rejected === 0 ? {} : { partialSuccess: { rejectedSpans: String(decoded.rejected), errorMessage: decoded.firstError ?? "" } };
      sendJson(res, partial);
    } else {
      const result = sink.addMetrics(body);
      const partial = result.rejected === 0 ? {} : { partialSuccess: { rejectedDataPoints: String(result.rejected), errorMessage: "some data points have no numeric value or an unknown type" } };
      sendJson(res, partial);
    }
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw new HttpError(400, `not an OTLP/JSON request: ${err.message}`);
    throw err;
  }
}

function checkMediaType(contentType: string | undefined): void {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") return;
  if (type === "application/x-protobuf" || type === "application/protobuf") {
    throw new HttpError(
      415,
      "the Ferry dashboard reads OTLP/HTTP in the JSON encoding only: configure the exporter for http/json " +
        "(OTEL_EXPORTER_OTLP_PROTOCOL=http/json; @opentelemetry/exporter-trace-otlp-http sends JSON) or send through an OpenTelemetry Collector",
    );
  }
  throw new HttpError(415, `Content-Type "${type}" is not supported: send application/json (OTLP/JSON)`);
}
