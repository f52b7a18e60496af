import { ROOT_CONTEXT, SpanKind, trace, type Context, type Span } from "@opentelemetry/api";
import { ATTR_NETWORK_PEER_ADDRESS } from "@opentelemetry/semantic-conventions";
import type { AnyRequest, AnyResponse, CallHandler } from "../rpc/call.js";
import type { CallContext } from "../rpc/call-context.js";
import { Code } from "../rpc/code.js";
import type { Interceptor } from "../rpc/interceptor.js";
import type { Logger } from "../util/logger.js";
import { CallRecord, type FailedCallListener } from "./call-record.js";
import { extractTraceContext } from "./metadata-carrier.js";
import { observeCall } from "./observe-call.js";
import { rpcSpanAttributes, rpcSpanName } from "./rpc-attributes.js";
import { serverRpcInstruments } from "./rpc-metrics.js";
import { currentTracer } from "./telemetry-providers.js";

/** Options of {@link createServerTelemetryInterceptor}. */
export interface ServerTelemetryOptions {
  /** Where the one line per failed call goes (level `warn`). */
  readonly logger: Logger;
}

/**
 * The server's built-in telemetry interceptor, outermost in every server's
 * chain (turn it off with `ServerOptions.telemetry: false`). Per call, on
 * every transport — they all dispatch through the Router:
 *
 * - a SERVER span named `{service}/{method}`, child of the W3C trace context
 *   the request metadata carries (extracted with the global propagator),
 *   active while the interceptors, the handler and a streamed response's
 *   generator run — so calls and publishes made by the handler join the trace;
 * - `rpc.server.duration` (ms) and calls in flight through the global meter;
 * - one structured `warn` line per failed call: service, method, code,
 *   duration in ms, peer, transport, and the span's ids.
 *
 * Without an OpenTelemetry SDK it creates no span and records no metric
 * (see {@link currentTracer}); only the failure log remains.
 */
export function createServerTelemetryInterceptor(options: ServerTelemetryOptions): Interceptor {
  const onFailed: FailedCallListener = (error, durationMs, span, init) => {
    const sc = span?.spanContext();
    options.logger.warn(
      {
        service: init.info.service.typeName,
        method: init.info.method.name,
        code: Code[error.code],
        durationMs: Math.round(durationMs * 1000) / 1000,
        peer: init.callContext?.peer,
        transport: init.transport,
        ...(sc === undefined ? {} : { trace_id: sc.traceId, span_id: sc.spanId }),
      },
      "call failed",
    );
  };
  return (next) => (req) => serveObserved(next, req, onFailed);
}

function serveObserved(next: CallHandler, req: AnyRequest, onFailed: FailedCallListener): Promise<AnyResponse> {
  const ctx = req.context as CallContext;
  const tracer = currentTracer();
  const instruments = serverRpcInstruments();
  let span: Span | undefined;
  let spanContext: Context | undefined;
  if (tracer !== undefined) {
    const parent = extractTraceContext(req.metadata, ROOT_CONTEXT);
    span = tracer.startSpan(rpcSpanName(ctx.method), { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      span.setAttributes(rpcSpanAttributes(ctx.method, ctx.transport));
      span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, ctx.peer);
    }
    spanContext = trace.setSpan(parent, span);
  }
  const record = new CallRecord({ side: "server", info: ctx.method, transport: ctx.transport, span, instruments, callContext: ctx, onFailed });
  return observeCall(next, req, record, spanContext, spanContext);
}
