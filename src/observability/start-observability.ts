import type { NodeSDK } from "@opentelemetry/sdk-node";
import type { MetricReader } from "@opentelemetry/sdk-metrics";
import type { Sampler } from "@opentelemetry/sdk-trace-base";
import type { ResourceDetector } from "@opentelemetry/resources";
import { importPeer } from "../util/import-peer.js";
import { redactAttributeValues } from "./redaction.js";
import { readOtelEnv, type OtelEnvChoice } from "./otel-env.js";
import { startPrometheusEndpoint, type PrometheusEndpoint } from "./prometheus-endpoint.js";

/** Options of {@link startObservability}. */
export interface ObservabilityOptions {
  /**
   * `service.name` of every span and metric. `OTEL_SERVICE_NAME` overrides it
   * (operators rename services without code changes). Default
   * `"unknown_service:node"` (the SDK's) when neither is set.
   */
  serviceName?: string;
  /**
   * Port of the Prometheus scrape endpoint (`GET /metrics`); 0 picks a free
   * one; `false` serves none. Default `OTEL_EXPORTER_PROMETHEUS_PORT`, else
   * 9464 (the port the OpenTelemetry Prometheus exporter and the Prometheus
   * registry assign it).
   */
  metricsPort?: number | false;
  /** Interface the endpoint binds. Default `OTEL_EXPORTER_PROMETHEUS_HOST`, else `"127.0.0.1"`. */
  metricsHost?: string;
  /**
   * Sampler of the tracer provider. Default: `OTEL_TRACES_SAMPLER` /
   * `OTEL_TRACES_SAMPLER_ARG`, else parent-based always-on (the SDK's).
   */
  sampler?: Sampler;
  /** Extra metric readers (for example a test reader). Default none. */
  metricReaders?: MetricReader[];
  /** The environment to read `OTEL_*` from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A started OpenTelemetry SDK. */
export interface Observability {
  /** The Prometheus endpoint, `http://127.0.0.1:9464/metrics`; `undefined` when turned off. */
  readonly metricsUrl: string | undefined;
  /** Whether spans are exported (an OTLP endpoint or `OTEL_TRACES_EXPORTER` is set). */
  readonly tracing: boolean;
  /** Exports what is buffered (batched spans, metrics) now. */
  forceFlush(): Promise<void>;
  /**
   * Flushes, then stops the SDK and the endpoint, and unregisters the global
   * providers (the API is a no-op again); idempotent. Call it before the process exits.
   */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK for a Ferry process, so the spans and
 * metrics Ferry's built-in instrumentation creates go somewhere:
 *
 * - metrics on a Prometheus scrape endpoint (`/metrics`, port 9464 by default),
 *   and over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_METRICS_EXPORTER=otlp`)
 *   is set, every `OTEL_METRIC_EXPORT_INTERVAL` ms;
 * - traces over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` or
 *   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (or `OTEL_TRACES_EXPORTER`) is set,
 *   batched (`OTEL_BSP_*`), sampled per `OTEL_TRACES_SAMPLER`;
 * - OTLP over `http/protobuf` (default) or `http/json` (and `grpc`), per
 *   `OTEL_EXPORTER_OTLP_PROTOCOL`; endpoints, headers and timeouts from the
 *   standard `OTEL_EXPORTER_OTLP_*` variables;
 * - W3C Trace Context and Baggage propagation (`OTEL_PROPAGATORS`), and the
 *   AsyncLocalStorage context manager.
 *
 * Call it once, first thing in the process; the SDK packages are optional
 * peers (`@opentelemetry/sdk-node`, `@opentelemetry/exporter-prometheus`,
 * and the OTLP exporters), loaded here.
 *
 * @throws FerryError FAILED_PRECONDITION naming a missing SDK package; the
 *   endpoint's listen error (`EADDRINUSE`) when the metrics port is taken.
 */
export async function startObservability(options: ObservabilityOptions = {}): Promise<Observability> {
  const env = readOtelEnv(options.env ?? process.env);
  const { NodeSDK } = await importPeer("@opentelemetry/sdk-node", () => import("@opentelemetry/sdk-node"), "startObservability");
  const readers: MetricReader[] = [...(options.metricReaders ?? [])];
  const port = options.metricsPort ?? env.prometheusPort ?? 9464;
  const prometheus = port === false ? undefined : await startPrometheusEndpoint(port, options.metricsHost ?? env.prometheusHost ?? "127.0.0.1");
  if (prometheus !== undefined) readers.push(prometheus.reader);
  if (env.otlpMetrics) readers.push(await otlpMetricReader(env));
  const sdk: NodeSDK = new NodeSDK({
    serviceName: env.serviceName ?? options.serviceName,
    sampler: options.sampler,
    metricReaders: readers,
    // With no exporter asked for, no tracer provider: spans would go nowhere.
    spanProcessors: env.traces ? undefined : [],
    instrumentations: [],
    resourceDetectors: await resourceDetectors(),
  });
  sdk.start();
  return handle(sdk, prometheus, env.traces);
}

function handle(sdk: NodeSDK, prometheus: PrometheusEndpoint | undefined, tracing: boolean): Observability {
  let stopping: Promise<void> | undefined;
  return {
    metricsUrl: prometheus?.url,
    tracing,
    async forceFlush() {
      const { trace, metrics } = await import("@opentelemetry/api");
      const flushable = (p: unknown) => (p as { forceFlush?: () => Promise<void> }).forceFlush?.();
      const tp = trace.getTracerProvider() as { getDelegate?: () => unknown };
      await Promise.all([flushable(tp.getDelegate?.() ?? tp), flushable(metrics.getMeterProvider())]);
    },
    shutdown() {
      stopping ??= Promise.all([sdk.shutdown(), prometheus?.close()]).then(async () => {
        // Unregister the dead providers, so the API is back to no-op and a later start works.
        const api = await import("@opentelemetry/api");
        api.trace.disable();
        api.metrics.disable();
        api.propagation.disable();
        api.context.disable();
      });
      return stopping;
    },
  };
}

/**
 * The Node SDK's default resource detectors (env, host, OS, process), with
 * secrets removed from the process's command line: `--broker
 * amqp://guest:guest@host` must not become a `target_info` label.
 */
async function resourceDetectors(): Promise<ResourceDetector[]> {
  const r = await importPeer("@opentelemetry/resources", () => import("@opentelemetry/resources"), "startObservability");
  const processDetector: ResourceDetector = {
    detect: (config) => {
      const detected = r.processDetector.detect(config);
      return { attributes: detected.attributes === undefined ? undefined : redactAttributeValues(detected.attributes) };
    },
  };
  return [r.envDetector, r.hostDetector, r.osDetector, processDetector];
}

/** A periodic reader exporting metrics over OTLP with the protocol the environment names. */
async function otlpMetricReader(env: OtelEnvChoice): Promise<MetricReader> {
  const { PeriodicExportingMetricReader } = await importPeer("@opentelemetry/sdk-metrics", () => import("@opentelemetry/sdk-metrics"), "OTLP metrics export");
  const feature = `OTLP metrics export over ${env.metricsProtocol}`;
  const exporter =
    env.metricsProtocol === "http/json"
      ? new (await importPeer("@opentelemetry/exporter-metrics-otlp-http", () => import("@opentelemetry/exporter-metrics-otlp-http"), feature)).OTLPMetricExporter()
      : env.metricsProtocol === "grpc"
        ? new (await importPeer("@opentelemetry/exporter-metrics-otlp-grpc", () => import("@opentelemetry/exporter-metrics-otlp-grpc"), feature)).OTLPMetricExporter()
        : new (await importPeer("@opentelemetry/exporter-metrics-otlp-proto", () => import("@opentelemetry/exporter-metrics-otlp-proto"), feature)).OTLPMetricExporter();
  return new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: env.metricExportIntervalMs });
}
