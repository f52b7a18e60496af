/**
 * The OTLP/HTTP **protobuf** encoding (`Content-Type: application/x-protobuf`,
 * what `@opentelemetry/exporter-trace-otlp-proto`, the SDKs' default
 * `http/protobuf` protocol and the Collector's `otlphttp` exporter send):
 * requests decoded, answers and errors encoded, with protobuf-es and the
 * descriptors generated from the official OTLP `.proto` files
 * (`proto/opentelemetry`, opentelemetry-proto v1.9.0).
 *
 * A decoded request is turned into its OTLP/JSON form (lowerCamelCase
 * names, enums as integers, trace and span ids as hex — the "JSON Protobuf
 * Encoding" of the OTLP specification), so both encodings go through the
 * same checks and caps of otlp-traces.ts and metric-store.ts.
 *
 * Source: OTLP specification 1.x, "OTLP/HTTP" ("Binary Protobuf Encoding",
 * "OTLP/HTTP Response": the response has the request's Content-Type;
 * failures carry a `google.rpc.Status`).
 */
import { create, fromBinary, toBinary, toJson, type JsonObject } from "@bufbuild/protobuf";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { ExportMetricsServiceRequestSchema, ExportMetricsServiceResponseSchema } from "../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js";
import { ExportTraceServiceRequestSchema, ExportTraceServiceResponseSchema } from "../gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js";
import { asObject, OtlpDecodeError } from "./otlp-common.js";

/** The media type of the binary encoding. */
export const OTLP_PROTOBUF_TYPE = "application/x-protobuf";

/** The signals the receiver takes. */
export type OtlpSignal = "traces" | "metrics";

/**
 * Decodes a binary `ExportTraceServiceRequest` or `ExportMetricsServiceRequest`
 * into its OTLP/JSON object.
 *
 * @throws OtlpDecodeError when the bytes are not that message (HTTP 400).
 */
export function decodeOtlpProtobuf(signal: OtlpSignal, bytes: Uint8Array): JsonObject {
  let json: JsonObject;
  try {
    json =
      signal === "traces"
        ? (toJson(ExportTraceServiceRequestSchema, fromBinary(ExportTraceServiceRequestSchema, bytes), { enumAsInteger: true }) as JsonObject)
        : (toJson(ExportMetricsServiceRequestSchema, fromBinary(ExportMetricsServiceRequestSchema, bytes), { enumAsInteger: true }) as JsonObject);
  } catch (err) {
    throw new OtlpDecodeError(`not a binary OTLP Export${signal === "traces" ? "Trace" : "Metrics"}ServiceRequest: ${(err as Error).message}`);
  }
  if (signal === "traces") hexIds(json);
  return json;
}

/**
 * The binary `Export*ServiceResponse`: empty when everything was stored,
 * else with `partial_success` (`rejected_spans` or `rejected_data_points`
 * and `error_message`).
 */
export function encodeOtlpResponse(signal: OtlpSignal, rejected: number, errorMessage: string): Uint8Array {
  if (signal === "traces") {
    const partialSuccess = rejected === 0 ? undefined : { rejectedSpans: BigInt(rejected), errorMessage };
    return toBinary(ExportTraceServiceResponseSchema, create(ExportTraceServiceResponseSchema, { partialSuccess }));
  }
  const partialSuccess = rejected === 0 ? undefined : { rejectedDataPoints: BigInt(rejected), errorMessage };
  return toBinary(ExportMetricsServiceResponseSchema, create(ExportMetricsServiceResponseSchema, { partialSuccess }));
}

/** A failure's body in the binary encoding: a `google.rpc.Status` with the gRPC code and message. */
export function encodeOtlpStatus(code: number, message: string): Uint8Array {
  return toBinary(StatusSchema, create(StatusSchema, { code, message }));
}

/**
 * The JSON mapping writes `bytes` as base64; OTLP/JSON writes trace and span
 * ids as hex (spans and their links), which otlp-traces.ts expects.
 */
function hexIds(request: JsonObject): void {
  for (const resourceSpans of list(request.resourceSpans)) {
    for (const scopeSpans of list(resourceSpans.scopeSpans)) {
      for (const span of list(scopeSpans.spans)) {
        idToHex(span, "traceId");
        idToHex(span, "spanId");
        idToHex(span, "parentSpanId");
        for (const link of list(span.links)) {
          idToHex(link, "traceId");
          idToHex(link, "spanId");
        }
      }
    }
  }
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.map(asObject).filter((v) => v !== undefined) : [];
}

function idToHex(object: Record<string, unknown>, field: string): void {
  const value = object[field];
  if (typeof value === "string") object[field] = Buffer.from(value, "base64").toString("hex");
}
