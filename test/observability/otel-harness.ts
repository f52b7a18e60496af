import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AggregationTemporality, MeterProvider, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type Sampler } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

/** A metric reader that exports nothing: tests call `collect()` themselves. */
class PullReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The real OpenTelemetry SDK registered globally, with in-memory span and metric readers. */
export interface OtelHarness {
  /** Every span ended so far. */
  spans(): ReadableSpan[];
  /** Spans named `name`. */
  spansNamed(name: string): ReadableSpan[];
  /** Collects the metrics recorded so far. */
  collect(): Promise<ResourceMetrics>;
  /** Forgets the ended spans. */
  reset(): void;
  /** Unregisters everything (trace, context, propagation, metrics). */
  shutdown(): Promise<void>;
}

/** Registers NodeTracerProvider (AsyncLocalStorage context, W3C propagators) and a MeterProvider globally. */
export function startOtelHarness(options: { sampler?: Sampler } = {}): OtelHarness {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)], sampler: options.sampler });
  provider.register();
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans: () => exporter.getFinishedSpans(),
    spansNamed: (name) => exporter.getFinishedSpans().filter((s) => s.name === name),
    collect: async () => (await reader.collect()).resourceMetrics,
    reset: () => exporter.reset(),
    async shutdown() {
      trace.disable();
      context.disable();
      propagation.disable();
      metrics.disable();
      await provider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** The data points of metric `name` in `rm`, flattened over scopes. */
export function metricPoints(rm: ResourceMetrics, name: string): { attributes: Record<string, unknown>; value: unknown }[] {
  const out: { attributes: Record<string, unknown>; value: unknown }[] = [];
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.descriptor.name === name) for (const p of m.dataPoints) out.push({ attributes: p.attributes, value: p.value });
  return out;
}

/** Waits until `check` passes (spans end asynchronously after a response is sent); `check` may be async. */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() - start > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
