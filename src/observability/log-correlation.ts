import { isSpanContextValid, trace } from "@opentelemetry/api";
import { pino, type LoggerOptions } from "pino";
import { LOG_REDACT_PATHS, REDACTED, redactSecrets } from "./redaction.js";

/** The fields a log line written inside a span carries (the names of the OpenTelemetry log data model and pino-opentelemetry). */
export interface TraceLogFields {
  /** 32 lower-case hex digits. */
  trace_id?: string;
  /** 16 lower-case hex digits. */
  span_id?: string;
  /** `"01"` when sampled, `"00"` otherwise. */
  trace_flags?: string;
}

/**
 * `trace_id`, `span_id` and `trace_flags` of the active span, or `{}`
 * outside a span (or without an OpenTelemetry SDK). A pino `mixin`.
 */
export function traceLogFields(): TraceLogFields {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: sc.traceFlags & 1 ? "01" : "00" };
}

/** Redacts every string value of a log line's top level (URLs with passwords, bearer tokens). */
function redactTopLevel(object: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(object)) {
    if (typeof v !== "string") continue;
    const r = redactSecrets(v);
    if (r !== v) (out ??= { ...object })[k] = r;
  }
  return out ?? object;
}

/** pino's error serializer, with secrets removed from the message and stack. */
function redactingErrorSerializer(err: Error): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const key of ["message", "stack"]) if (typeof serialized[key] === "string") serialized[key] = redactSecrets(serialized[key]);
  return serialized;
}

/**
 * The pino options Ferry's default logger uses, to build your own logger
 * the same way (`pino({ ...ferryLogOptions(), level: "debug" })`):
 *
 * - `mixin`: {@link traceLogFields} — lines written inside a span carry its ids;
 * - `redact`: `authorization` and cookie headers, tokens, passwords
 *   ({@link LOG_REDACT_PATHS}), replaced by `[redacted]`;
 * - string fields, messages and error messages/stacks with URL passwords,
 *   bearer/basic credentials and JWTs removed (see `redactSecrets`).
 */
export function ferryLogOptions(): LoggerOptions {
  return {
    mixin: traceLogFields,
    redact: { paths: [...LOG_REDACT_PATHS], censor: REDACTED },
    serializers: { err: redactingErrorSerializer },
    formatters: { log: redactTopLevel },
    hooks: {
      logMethod(args, method) {
        const redacted = args.map((a: unknown) => (typeof a === "string" ? redactSecrets(a) : a));
        return method.apply(this, redacted as Parameters<typeof method>);
      },
    },
  };
}
