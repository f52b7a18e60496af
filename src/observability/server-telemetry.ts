import { context, ROOT_CONTEXT, SpanKind, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { ATTR_NETWORK_PEER_ADDRESS } from "@opentelemetry/semantic-conventions";
import type { AnyRequest, AnyResponse, CallHandler } from "../rpc/call.js";
import type { CallContext } from "../rpc/call-context.js";
import { Code } from "../rpc/code.js";
import type { Interceptor } from "../rpc/interceptor.js";
import type { Logger } from "../util/logger.js";
import type { FerryError } from "../rpc/ferry-error.js";
import { CallRecord, FAILED_CALL_SPAN } from "./call-record.js";
import { extractTraceContext } from "./metadata-carrier.js";
import { observeCall } from "./observe-call.js";
import { rpcSpanAttributes, rpcSpanName } from "./rpc-attributes.js";
import { serverRpcInstruments, type RpcSideInstruments } from "./rpc-metrics.js";
import { currentTracer } from "./telemetry-providers.js";

/** Options of {@link createServerTelemetryInterceptor}. */
export interface ServerTelemetryOptions {
  /**
   * Unused since failed calls are logged by the server itself (see
   * {@link createFailedCallLogger}); kept so existing callers compile.
   * @deprecated
   */
  readonly logger?: Logger;
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
 * - `rpc.server.duration` (ms) and calls in flight through the global meter.
 *
 * Without an OpenTelemetry SDK (see {@link currentTracer}) it passes the
 * call on untouched: no allocation, no promise. The one `warn` line per
 * failed call is written by the server through the Router
 * ({@link createFailedCallLogger}), so it costs nothing while calls succeed.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- options kept for compatibility
export function createServerTelemetryInterceptor(options: ServerTelemetryOptions = {}): Interceptor {
  return (next) => (req) => {
    const tracer = currentTracer();
    const instruments = serverRpcInstruments();
    if (tracer === undefined && instruments === undefined) return next(req);
    return serveObserved(next, req, tracer, instruments);
  };
}

/**
 * The server's failed-call log line, as a Router `onCallFailed` listener:
 * one `warn` line `call failed` per failed call with `service`, `method`,
 * `code`, `durationMs` (since the call arrived), `peer`, `transport` and,
 * when the call was traced, the server span's `trace_id` and `span_id`.
 */
export function createFailedCallLogger(logger: Logger): (error: FerryError, ctx: CallContext) => void {
  return (error, ctx) => {
    const sc = ctx.values.get(FAILED_CALL_SPAN)?.spanContext();
    logger.warn(
      {
        service: ctx.method.service.typeName,
        method: ctx.method.method.name,
        code: Code[error.code],
        durationMs: Math.round((performance.now() - ctx.startMs) * 1000) / 1000,
        peer: ctx.peer,
        transport: ctx.transport,
        ...(sc === undefined ? {} : { trace_id: sc.traceId, span_id: sc.spanId }),
      },
      "call failed",
    );
  };
}

function serveObserved(next: CallHandler, req: AnyRequest, tracer: Tracer | undefined, instruments: RpcSideInstruments | undefined): Promise<AnyResponse> {
  const ctx = req.context as CallContext;
  let span: Span | undefined;
  let spanContext: Context | undefined;
  if (tracer !== undefined) {
    const parent = extractTraceContext(req.metadata, ROOT_CONTEXT);
    span = tracer.startSpan(rpcSpanName(ctx.method), { kind: SpanKind.SERVER }, parent);
    const recording = span.isRecording();
    if (recording) {
      span.setAttributes(rpcSpanAttributes(ctx.method, ctx.transport));
      span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, ctx.peer);
    }
    spanContext = trace.setSpan(parent, span);
    // Sampled out, no metrics, unary answer: the handler runs in the sampled-out context (its calls carry the
    // decision on); nothing to record or end, so no call record and no promise reaction.
    if (!recording && instruments === undefined && !ctx.method.responseStream) return context.with(spanContext, next, undefined, req);
  }
  const record = new CallRecord({ side: "server", info: ctx.method, transport: ctx.transport, span, instruments, callContext: ctx });
  return observeCall(next, req, record, spanContext, spanContext);
}
