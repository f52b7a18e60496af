import { startObservability } from "../observability/start-observability.js";
import type { TopologyTelemetry } from "./topology-config.js";

/** The telemetry a process group started. */
export interface Telemetry {
  readonly metricsUrl: string | undefined;
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry for one process group (docs/observability.md):
 * `service.name` `<topology>-<group>` (`OTEL_SERVICE_NAME` overrides it), the
 * Prometheus endpoint on `metricsPort` (default 0: a free port), and OTLP
 * export to `otlpEndpoint` (sets `OTEL_EXPORTER_OTLP_ENDPOINT` unless the
 * environment already does). Raises FAILED_PRECONDITION when an SDK is
 * already registered in this process.
 */
export async function startTelemetry(telemetry: TopologyTelemetry, serviceName: string): Promise<Telemetry> {
  if (telemetry.otlpEndpoint !== undefined) process.env.OTEL_EXPORTER_OTLP_ENDPOINT ??= telemetry.otlpEndpoint;
  const o = await startObservability({ serviceName, metricsPort: telemetry.metricsPort ?? 0, metricsHost: telemetry.metricsHost });
  return { metricsUrl: o.metricsUrl, shutdown: () => o.shutdown() };
}
