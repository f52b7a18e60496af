import { describe, expect, it } from "vitest";
import { readOtelEnv } from "./otel-env.js";

describe("readOtelEnv()", () => {
  it("exports nothing over OTLP when no endpoint or exporter is set", () => {
    expect(readOtelEnv({})).toMatchObject({ traces: false, otlpMetrics: false, metricsProtocol: "http/protobuf", metricExportIntervalMs: 60_000, serviceName: undefined });
  });

  it("turns traces and metrics on when OTEL_EXPORTER_OTLP_ENDPOINT is set, with its protocol", () => {
    expect(readOtelEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).toMatchObject({ traces: true, otlpMetrics: true, metricsProtocol: "http/json" });
  });

  it("lets OTEL_TRACES_EXPORTER=none and OTEL_METRICS_EXPORTER=prometheus win over an endpoint", () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "prometheus" };
    expect(readOtelEnv(env)).toMatchObject({ traces: false, otlpMetrics: false });
  });

  it("turns traces on for an explicit exporter without an endpoint (the SDK's default endpoint)", () => {
    expect(readOtelEnv({ OTEL_TRACES_EXPORTER: "otlp,console" }).traces).toBe(true);
  });

  it("reads the service name, the export interval and the Prometheus port, ignoring junk", () => {
    expect(readOtelEnv({ OTEL_SERVICE_NAME: "cart", OTEL_METRIC_EXPORT_INTERVAL: "5000", OTEL_EXPORTER_PROMETHEUS_PORT: "9999" })).toMatchObject({ serviceName: "cart", metricExportIntervalMs: 5000, prometheusPort: 9999 });
    expect(readOtelEnv({ OTEL_METRIC_EXPORT_INTERVAL: "soon", OTEL_EXPORTER_PROMETHEUS_PORT: "x" })).toMatchObject({ metricExportIntervalMs: 60_000, prometheusPort: undefined });
  });
});
