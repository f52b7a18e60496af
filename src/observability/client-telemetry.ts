import { context, SpanKind, trace, type Context, type Span } from "@opentelemetry/api";
import type { Interceptor } from "../rpc/interceptor.js";
import { CallRecord } from "./call-record.js";
import { injectTraceContext } from "./metadata-carrier.js";
import { observeCall } from "./observe-call.js";
import { peerFromTarget, rpcSpanAttributes, rpcSpanName } from "./rpc-attributes.js";
import { clientRpcInstruments } from "./rpc-metrics.js";
import { currentTracer } from "./telemetry-providers.js";

/** Options of {@link createClientTelemetryInterceptor}. */
export interface ClientTelemetryOptions {
  /**
   * The client's target URL, when it was created from one: gives
   * `server.address`, `server.port` and the transport (`rpc.system`) of its
   * spans. Default: unknown (`rpc.system = "ferry"`, no address).
   */
  readonly target?: string;
  /** The transport's name when the client was given a transport object (`ClientTransport.transportName`); the target's scheme wins. */
  readonly transportName?: string;
}

/**
 * The client's built-in telemetry interceptor, outermost in every client's
 * chain (turn it off with `ClientOptions.telemetry: false`). Per call:
 *
 * - a CLIENT span named `{service}/{method}`, child of the active context
 *   (inside a handler: its server span), whose W3C trace context is
 *   injected into the request metadata with the global propagator — so it
 *   crosses `grpc`, `native`, `inproc` and NATS RPC alike;
 * - the span stays active while the rest of the chain runs, so resilience
 *   policies add their events (retries, hedges, breaker) to it
 *   (see {@link observeResilienceEvents}) and every attempt's server span
 *   is its child;
 * - `rpc.client.duration` (ms) and calls in flight through the global meter.
 *
 * Without an OpenTelemetry SDK this is one provider check per call. With
 * a sampler that drops the span (and no meter provider), the sampled-out
 * trace context is still injected, so downstream services agree on the
 * decision, but nothing else is done: no attributes, no active context, no
 * promise.
 */
export function createClientTelemetryInterceptor(options: ClientTelemetryOptions = {}): Interceptor {
  const fromTarget = peerFromTarget(options.target);
  const peer = { ...fromTarget, transport: fromTarget.transport ?? options.transportName };
  return (next) => (req) => {
    const tracer = currentTracer();
    const instruments = clientRpcInstruments();
    if (tracer === undefined && instruments === undefined) return next(req);
    let span: Span | undefined;
    let spanContext: Context | undefined;
    if (tracer !== undefined) {
      const parent = context.active();
      span = tracer.startSpan(rpcSpanName(req.method), { kind: SpanKind.CLIENT }, parent);
      const recording = span.isRecording();
      if (recording) span.setAttributes(rpcSpanAttributes(req.method, peer.transport, peer));
      spanContext = trace.setSpan(parent, span);
      injectTraceContext(req.metadata, spanContext);
      // Sampled out and no metrics: the decision travels in the metadata; nothing to record, end or keep active.
      if (!recording && instruments === undefined) return next(req);
    }
    const record = new CallRecord({ side: "client", info: req.method, transport: peer.transport, span, instruments });
    return observeCall(next, req, record, spanContext, undefined);
  };
}
