import { context, metrics, propagation, trace } from "@opentelemetry/api";
import type { Resource, ResourceDetector } from "@opentelemetry/resources";
import type { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import type { Sampler, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { importPeer } from "../util/import-peer.js";
import { readOtelEnv, type OtelEnvChoice } from "./otel-env.js";
import { otlpMetricExporter, otlpSpanExporter } from "./otlp-exporters.js";
import { startPrometheusEndpoint, type PrometheusEndpoint } from "./prometheus-endpoint.js";
import { redactAttributeValues } from "./redaction.js";
import { currentMeter, currentTracer } from "./telemetry-providers.js";

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
  /** Extra span processors (for example an in-memory exporter in tests); they turn tracing on. Default none. */
  spanProcessors?: SpanProcessor[];
  /** Extra metric readers (for example a test reader). Default none. */
  metricReaders?: MetricReader[];
  /** The environment to read `OTEL_*` from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A started OpenTelemetry SDK. */
export interface Observability {
  /** The Prometheus endpoint, `http://127.0.0.1:9464/metrics`; `undefined` when turned off. */
  readonly metricsUrl: string | undefined;
  /** Whether a tracer provider is registered (an exporter or span processor was asked for). */
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
 * Starts the OpenTelemetry SDK for a Node.js process running Ferry, so the
 * spans and metrics Ferry's built-in instrumentation creates go somewhere:
 *
 * - metrics on a Prometheus scrape endpoint (`/metrics`, port 9464 by default),
 *   and over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_METRICS_EXPORTER=otlp`)
 *   is set, every `OTEL_METRIC_EXPORT_INTERVAL` ms (default 60 000);
 * - traces when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
 *   (or `OTEL_TRACES_EXPORTER=otlp|console`) is set, batched (`OTEL_BSP_*`),
 *   sampled per `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG`;
 * - OTLP over `http/protobuf` (default), `http/json` or `grpc`, per
 *   `OTEL_EXPORTER_OTLP_PROTOCOL` (and the per-signal `_TRACES_`/`_METRICS_`
 *   variants); endpoints, headers and timeouts from `OTEL_EXPORTER_OTLP_*`;
 * - W3C Trace Context and Baggage propagation and the AsyncLocalStorage
 *   context manager (NodeTracerProvider's defaults);
 * - a resource from `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, the host,
 *   OS and process — with passwords in the command line redacted.
 *
 * Call it once, first thing in the process. The SDK packages are optional
 * peers loaded here: `@opentelemetry/sdk-trace-node`, `sdk-trace-base`,
 * `sdk-metrics`, `resources`, `exporter-prometheus`, and the OTLP exporter of
 * the protocol in use.
 *
 * @throws FerryError FAILED_PRECONDITION naming a missing SDK package, or
 *   when an SDK (this one or another) is already registered; the endpoint's
 *   listen error (`EADDRINUSE`) when the metrics port is taken.
 */
export async function startObservability(options: ObservabilityOptions = {}): Promise<Observability> {
  if (currentTracer() !== undefined || currentMeter() !== undefined) {
    throw new FerryError(Code.FAILED_PRECONDITION, "an OpenTelemetry SDK is already registered in this process: startObservability() runs once, and not next to another SDK (shut the first one down)");
  }
  const env = readOtelEnv(options.env ?? process.env);
  const resource = await buildResource(env, options.serviceName);
  const port = options.metricsPort ?? env.prometheusPort ?? 9464;
  const prometheus = port === false ? undefined : await startPrometheusEndpoint(port, options.metricsHost ?? env.prometheusHost ?? "127.0.0.1");
  const readers: MetricReader[] = [...(options.metricReaders ?? [])];
  if (prometheus !== undefined) readers.push(prometheus.reader);
  if (env.otlpMetrics) readers.push(await otlpMetricReader(env));
  const meterProvider = readers.length === 0 ? undefined : await startMeterProvider(resource, readers);
  const processors = [...(env.traces ? await spanProcessorsFromEnv(env) : []), ...(options.spanProcessors ?? [])];
  const tracerProvider = processors.length === 0 ? undefined : await startTracerProvider(resource, processors, options.sampler);
  return handle(tracerProvider, meterProvider, prometheus);
}

function handle(tracerProvider: NodeTracerProvider | undefined, meterProvider: MeterProvider | undefined, prometheus: PrometheusEndpoint | undefined): Observability {
  let stopping: Promise<void> | undefined;
  return {
    metricsUrl: prometheus?.url,
    tracing: tracerProvider !== undefined,
    async forceFlush() {
      await Promise.all([tracerProvider?.forceFlush(), meterProvider?.forceFlush()]);
    },
    shutdown() {
      stopping ??= Promise.all([tracerProvider?.shutdown(), meterProvider?.shutdown(), prometheus?.close()]).then(() => {
        // Unregister the dead providers, so the API is back to no-op and a later start works.
        if (tracerProvider !== undefined) {
          trace.disable();
          propagation.disable();
          context.disable();
        }
        if (meterProvider !== undefined) metrics.disable();
      });
      return stopping;
    },
  };
}

async function startTracerProvider(resource: Resource, spanProcessors: SpanProcessor[], sampler: Sampler | undefined): Promise<NodeTracerProvider> {
  const { NodeTracerProvider } = await importPeer("@opentelemetry/sdk-trace-node", () => import("@opentelemetry/sdk-trace-node"), "startObservability");
  // Without a sampler the provider reads OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
  const provider = new NodeTracerProvider({ resource, spanProcessors, ...(sampler === undefined ? {} : { sampler }) });
  provider.register(); // AsyncLocalStorage context manager, W3C trace context and baggage propagators
  return provider;
}

async function startMeterProvider(resource: Resource, readers: MetricReader[]): Promise<MeterProvider> {
  const { MeterProvider } = await importPeer("@opentelemetry/sdk-metrics", () => import("@opentelemetry/sdk-metrics"), "startObservability");
  const provider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(provider);
  return provider;
}

/** One batch processor per exporter in `OTEL_TRACES_EXPORTER` (`otlp`, `console`); others are ignored. */
async function spanProcessorsFromEnv(env: OtelEnvChoice): Promise<SpanProcessor[]> {
  const base = await importPeer("@opentelemetry/sdk-trace-base", () => import("@opentelemetry/sdk-trace-base"), "startObservability");
  const processors: SpanProcessor[] = [];
  for (const name of env.traceExporters) {
    // BatchSpanProcessor reads OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, … itself.
    if (name === "otlp") processors.push(new base.BatchSpanProcessor(await otlpSpanExporter(env.tracesProtocol)));
    else if (name === "console") processors.push(new base.SimpleSpanProcessor(new base.ConsoleSpanExporter()));
  }
  return processors;
}

/** A periodic reader exporting metrics over OTLP with the protocol the environment names. */
async function otlpMetricReader(env: OtelEnvChoice): Promise<MetricReader> {
  const { PeriodicExportingMetricReader } = await importPeer("@opentelemetry/sdk-metrics", () => import("@opentelemetry/sdk-metrics"), "OTLP metrics export");
  return new PeriodicExportingMetricReader({ exporter: await otlpMetricExporter(env.metricsProtocol), exportIntervalMillis: env.metricExportIntervalMs });
}

/**
 * The SDK's default resource, then what the env (`OTEL_SERVICE_NAME`,
 * `OTEL_RESOURCE_ATTRIBUTES`), host, OS and process detectors find — with
 * secrets removed from the command line (`--broker amqp://guest:guest@host`
 * must not become a `target_info` label) — and `serviceName` when the
 * environment names no service.
 */
async function buildResource(env: OtelEnvChoice, serviceName: string | undefined): Promise<Resource> {
  const r = await importPeer("@opentelemetry/resources", () => import("@opentelemetry/resources"), "startObservability");
  const processDetector: ResourceDetector = {
    detect: (config) => {
      const detected = r.processDetector.detect(config);
      return { attributes: detected.attributes === undefined ? undefined : redactAttributeValues(detected.attributes) };
    },
  };
  let resource = r.defaultResource();
  if (serviceName !== undefined && env.serviceName === undefined) resource = resource.merge(r.resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }));
  return resource.merge(r.detectResources({ detectors: [r.envDetector, r.hostDetector, r.osDetector, processDetector] }));
}
