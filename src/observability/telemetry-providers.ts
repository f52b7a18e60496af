import { createNoopMeter, metrics, ProxyTracerProvider, trace, type Meter, type Tracer, type TracerProvider } from "@opentelemetry/api";

/**
 * The instrumentation scope of every span and instrument Ferry creates
 * (OpenTelemetry "instrumentation scope": name and version of the library).
 */
export const INSTRUMENTATION_SCOPE = Object.freeze({ name: "ferry", version: "0.1.0" });

// The API's no-op tracer provider: what a fresh ProxyTracerProvider delegates
// to while no SDK is registered. The API does not export the class.
const noopTracerProvider: TracerProvider = new ProxyTracerProvider().getDelegate();
// The API's no-op meter class, from the one factory it exports.
const NoopMeter = createNoopMeter().constructor;

let tracerProvider: TracerProvider | undefined;
let tracer: Tracer | undefined;
let meterProvider: unknown;
let meter: Meter | undefined;

/**
 * The tracer of the globally registered OpenTelemetry SDK, or `undefined`
 * when none is registered (the API's no-op provider): callers then skip
 * tracing altogether, which is what keeps the no-SDK path free.
 *
 * Looked up on every call (two property reads) rather than cached once, so
 * an SDK registered after a client or server was created — or replaced, as
 * tests do — is picked up; the tracer itself is cached per provider.
 */
export function currentTracer(): Tracer | undefined {
  const global = trace.getTracerProvider();
  const delegate = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
  if (delegate === noopTracerProvider) return undefined;
  if (delegate !== tracerProvider) {
    tracerProvider = delegate;
    tracer = delegate.getTracer(INSTRUMENTATION_SCOPE.name, INSTRUMENTATION_SCOPE.version);
  }
  return tracer;
}

/**
 * The meter of the globally registered OpenTelemetry meter provider, or
 * `undefined` while none is registered (the API's no-op meter). Cached per
 * provider, like {@link currentTracer}.
 */
export function currentMeter(): Meter | undefined {
  const provider = metrics.getMeterProvider();
  if (provider !== meterProvider) {
    meterProvider = provider;
    const m = provider.getMeter(INSTRUMENTATION_SCOPE.name, INSTRUMENTATION_SCOPE.version);
    meter = m instanceof NoopMeter ? undefined : m;
  }
  return meter;
}

/**
 * Instruments built once per meter by `create` (a family of histograms and
 * counters), or `undefined` without a meter provider. The returned function
 * is what the hot path calls: one provider check and one WeakMap look-up
 * only when the provider changed.
 */
export function instrumentsPerMeter<T>(create: (meter: Meter) => T): () => T | undefined {
  let forMeter: Meter | undefined;
  let built: T | undefined;
  return () => {
    const m = currentMeter();
    if (m === undefined) return undefined;
    if (m !== forMeter) {
      forMeter = m;
      built = create(m);
    }
    return built;
  };
}
