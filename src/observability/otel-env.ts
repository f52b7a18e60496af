/**
 * The standard OpenTelemetry environment variables that decide what
 * {@link startObservability} exports (OpenTelemetry specification, "SDK
 * environment variables" and "OTLP exporter configuration").
 */

/** An OTLP transport protocol, as `OTEL_EXPORTER_OTLP_PROTOCOL` names it. */
export type OtlpProtocol = "http/protobuf" | "http/json" | "grpc";

/** What the environment asks for. */
export interface OtelEnvChoice {
  /** `OTEL_SERVICE_NAME`, when set. */
  readonly serviceName: string | undefined;
  /**
   * Whether to export traces: `OTEL_TRACES_EXPORTER` when set (anything but
   * `none`), else whether an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`
   * or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). Ferry exports nothing to the
   * default `localhost:4318` unless asked, unlike the bare Node SDK.
   */
  readonly traces: boolean;
  /** The trace exporters: `OTEL_TRACES_EXPORTER` (`otlp`, `console`), default `["otlp"]`. */
  readonly traceExporters: readonly string[];
  /** The traces OTLP protocol: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL`, default `http/protobuf`. */
  readonly tracesProtocol: OtlpProtocol;
  /** Whether to export metrics over OTLP: `OTEL_METRICS_EXPORTER` includes `otlp`, or unset with an OTLP endpoint set. */
  readonly otlpMetrics: boolean;
  /** The metrics OTLP protocol: `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL`, default `http/protobuf`. */
  readonly metricsProtocol: OtlpProtocol;
  /** `OTEL_METRIC_EXPORT_INTERVAL` in ms, default 60 000. */
  readonly metricExportIntervalMs: number;
  /** `OTEL_EXPORTER_PROMETHEUS_PORT`, when set. */
  readonly prometheusPort: number | undefined;
  /** `OTEL_EXPORTER_PROMETHEUS_HOST`, when set. */
  readonly prometheusHost: string | undefined;
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function protocol(value: string | undefined): OtlpProtocol {
  return value === "http/json" || value === "grpc" ? value : "http/protobuf";
}

/** Reads the choices from `env` (default `process.env`). Never throws: invalid numbers fall back to defaults. */
export function readOtelEnv(env: NodeJS.ProcessEnv = process.env): OtelEnvChoice {
  const endpoint = (key: string) => (env[key] ?? "") !== "";
  const tracesList = list(env.OTEL_TRACES_EXPORTER);
  const metricsList = list(env.OTEL_METRICS_EXPORTER);
  const anyEndpoint = endpoint("OTEL_EXPORTER_OTLP_ENDPOINT");
  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
  const promPort = Number(env.OTEL_EXPORTER_PROMETHEUS_PORT);
  return {
    serviceName: env.OTEL_SERVICE_NAME === "" ? undefined : env.OTEL_SERVICE_NAME,
    traces: tracesList.length > 0 ? !tracesList.includes("none") : anyEndpoint || endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    traceExporters: tracesList.length > 0 ? tracesList.filter((t) => t !== "none") : ["otlp"],
    tracesProtocol: protocol(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL),
    otlpMetrics: metricsList.length > 0 ? metricsList.includes("otlp") : anyEndpoint || endpoint("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
    metricsProtocol: protocol(env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL),
    metricExportIntervalMs: Number.isFinite(interval) && interval > 0 ? interval : 60_000,
    prometheusPort: Number.isInteger(promPort) && promPort >= 0 && env.OTEL_EXPORTER_PROMETHEUS_PORT !== "" && env.OTEL_EXPORTER_PROMETHEUS_PORT !== undefined ? promPort : undefined,
    prometheusHost: env.OTEL_EXPORTER_PROMETHEUS_HOST === "" ? undefined : env.OTEL_EXPORTER_PROMETHEUS_HOST,
  };
}
