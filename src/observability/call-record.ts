import { SpanStatusCode, type Span } from "@opentelemetry/api";
import { ATTR_RPC_GRPC_STATUS_CODE } from "@opentelemetry/semantic-conventions/incubating";
import { ATTR_ERROR_TYPE } from "@opentelemetry/semantic-conventions";
import type { MethodInfo } from "../contract/method-info.js";
import { createContextKey, type CallContext } from "../rpc/call-context.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { rpcMetricAttributes } from "./rpc-attributes.js";
import type { RpcSideInstruments } from "./rpc-metrics.js";

/**
 * Status codes that mark a server span as an error, per the OpenTelemetry
 * gRPC conventions: the server's own faults. Every other code (NOT_FOUND,
 * INVALID_ARGUMENT, …) is the caller's business and leaves the server span
 * unset; on the client every non-OK code is an error.
 */
const serverFaults = new Set<Code>([Code.UNKNOWN, Code.DEADLINE_EXCEEDED, Code.UNIMPLEMENTED, Code.INTERNAL, Code.UNAVAILABLE, Code.DATA_LOSS]);

/** What a {@link CallRecord} needs to know. */
export interface CallRecordInit {
  readonly side: "client" | "server";
  readonly info: MethodInfo;
  /** The transport's name, for the metric attributes. */
  readonly transport: string | undefined;
  /** The call's span; `undefined` without a tracer. */
  readonly span: Span | undefined;
  /** The side's instruments; `undefined` without a meter provider. */
  readonly instruments: RpcSideInstruments | undefined;
  /** The server call's context: a failed call's span is left in it under {@link FAILED_CALL_SPAN}. */
  readonly callContext?: CallContext;
}

/**
 * The span of a server call that failed, kept in its call context for the
 * failed-call log line (which the Router writes after the telemetry
 * interceptor finished the call). Set only on failure.
 */
export const FAILED_CALL_SPAN = createContextKey<Span | undefined>(undefined, "ferry.failedCallSpan");

/**
 * One call being observed: counts it in flight from construction, and on
 * {@link finish} ends its span with the status (`rpc.grpc.status_code`,
 * span status ERROR with the error's message — never the request body) and
 * records its duration. Finishing twice does nothing.
 */
export class CallRecord {
  readonly #init: CallRecordInit;
  readonly #startMs = performance.now();
  #finished = false;

  constructor(init: CallRecordInit) {
    this.#init = init;
    init.instruments?.active.add(init.info, 1);
  }

  /** Ends the call with `error`'s code, or OK without one. */
  finish(error?: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    const { span, instruments, info, transport, side } = this.#init;
    const e = error === undefined ? undefined : FerryError.from(error);
    const code = e === undefined ? Code.OK : e.code;
    if (e !== undefined && span !== undefined) this.#init.callContext?.values.set(FAILED_CALL_SPAN, span);
    if (span !== undefined) endSpan(span, side, code, e);
    if (instruments !== undefined) {
      instruments.active.add(info, -1);
      instruments.duration.record(performance.now() - this.#startMs, rpcMetricAttributes(info, transport, code));
    }
  }

  /** Milliseconds since the call started. */
  elapsedMs(): number {
    return performance.now() - this.#startMs;
  }
}

function endSpan(span: Span, side: "client" | "server", code: Code, error: FerryError | undefined): void {
  if (span.isRecording()) {
    span.setAttribute(ATTR_RPC_GRPC_STATUS_CODE, code);
    if (error !== undefined && (side === "client" || serverFaults.has(code))) {
      span.setAttribute(ATTR_ERROR_TYPE, Code[code]);
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${Code[code]}: ${error.rawMessage}` });
    }
  }
  span.end();
}
