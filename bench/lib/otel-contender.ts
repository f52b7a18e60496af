import { metrics } from "@opentelemetry/api";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

/**
 * The OpenTelemetry set-ups of the observability cost contenders (issue:
 * "with the SDK recording every span and exporting in batches", "with a
 * sampler that drops everything"), registered globally in a contender's
 * server and client process before anything else runs:
 *
 * - `"record"`: NodeTracerProvider, AlwaysOn sampler, BatchSpanProcessor
 *   (SDK defaults: 512 spans per batch, 5 s delay) into an exporter that
 *   discards the batch, plus a MeterProvider whose periodic reader
 *   (60 s) exports to a discarding exporter — every span and histogram
 *   point is built, none leaves the process;
 * - `"drop"`: NodeTracerProvider with AlwaysOff: context propagation,
 *   AsyncLocalStorage and non-recording spans, no meter provider.
 */
export type BenchOtelMode = "record" | "drop";

const discardSpans: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

const discardMetrics: PushMetricExporter = {
  export: (_metrics, done) => done({ code: 0 }),
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/** Registers the SDK for `mode` globally in this process. */
export function registerBenchOtel(mode: BenchOtelMode): void {
  const provider = new NodeTracerProvider({
    sampler: mode === "record" ? new AlwaysOnSampler() : new AlwaysOffSampler(),
    spanProcessors: mode === "record" ? [new BatchSpanProcessor(discardSpans)] : [],
  });
  provider.register();
  if (mode === "record") {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: discardMetrics, exportIntervalMillis: 60_000 })] }));
  }
}
