import type { PushMetricExporter } from "@opentelemetry/sdk-metrics";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { importPeer } from "../util/import-peer.js";
import type { OtlpProtocol } from "./otel-env.js";

/**
 * The OTLP span exporter for `protocol`, loaded on demand from its optional
 * peer: `@opentelemetry/exporter-trace-otlp-proto` (http/protobuf),
 * `-otlp-http` (http/json) or `-otlp-grpc`. Each reads its endpoint,
 * headers, compression and timeout from the `OTEL_EXPORTER_OTLP_*` variables.
 *
 * @throws FerryError FAILED_PRECONDITION naming the package when it is not installed.
 */
export async function otlpSpanExporter(protocol: OtlpProtocol): Promise<SpanExporter> {
  const feature = `OTLP trace export over ${protocol}`;
  if (protocol === "http/json") {
    return new (await importPeer("@opentelemetry/exporter-trace-otlp-http", () => import("@opentelemetry/exporter-trace-otlp-http"), feature)).OTLPTraceExporter();
  }
  if (protocol === "grpc") {
    return new (await importPeer("@opentelemetry/exporter-trace-otlp-grpc", () => import("@opentelemetry/exporter-trace-otlp-grpc"), feature)).OTLPTraceExporter();
  }
  return new (await importPeer("@opentelemetry/exporter-trace-otlp-proto", () => import("@opentelemetry/exporter-trace-otlp-proto"), feature)).OTLPTraceExporter();
}

/** The OTLP metric exporter for `protocol` (see {@link otlpSpanExporter}). */
export async function otlpMetricExporter(protocol: OtlpProtocol): Promise<PushMetricExporter> {
  const feature = `OTLP metrics export over ${protocol}`;
  if (protocol === "http/json") {
    return new (await importPeer("@opentelemetry/exporter-metrics-otlp-http", () => import("@opentelemetry/exporter-metrics-otlp-http"), feature)).OTLPMetricExporter();
  }
  if (protocol === "grpc") {
    return new (await importPeer("@opentelemetry/exporter-metrics-otlp-grpc", () => import("@opentelemetry/exporter-metrics-otlp-grpc"), feature)).OTLPMetricExporter();
  }
  return new (await importPeer("@opentelemetry/exporter-metrics-otlp-proto", () => import("@opentelemetry/exporter-metrics-otlp-proto"), feature)).OTLPMetricExporter();
}
