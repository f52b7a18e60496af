import { context, propagation, type Context, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import { Metadata } from "../rpc/metadata.js";

/**
 * Reads propagation fields (W3C `traceparent`, `tracestate`, `baggage`, or
 * whatever the configured propagator uses) from Ferry {@link Metadata}: the
 * carrier of gRPC metadata, native-protocol metadata and NATS RPC headers
 * alike (OpenTelemetry `TextMapGetter`). Binary (`-bin`) entries are ignored.
 */
export const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.getText(key),
};

/**
 * Writes propagation fields into Ferry {@link Metadata}, replacing earlier
 * values of the same key (a retried call re-injects its span's context).
 * A value the metadata rules reject (non-ASCII) is dropped rather than
 * thrown: propagation never breaks a call (OpenTelemetry's API contract).
 */
export const metadataSetter: TextMapSetter<Metadata> = {
  set: (carrier, key, value) => {
    try {
      carrier.set(key, value);
    } catch {
      // Invalid for metadata: leave it out.
    }
  },
};

/**
 * Injects the trace context of `ctx` (default: the active context) into
 * `metadata` through the globally registered propagator — W3C Trace Context
 * and Baggage with the Node SDK's defaults, nothing without an SDK.
 */
export function injectTraceContext(metadata: Metadata, ctx: Context = context.active()): void {
  propagation.inject(ctx, metadata, metadataSetter);
}

/**
 * The context carried by `metadata` (a remote parent span, baggage) on top
 * of `base` (default: the active context), through the global propagator.
 */
export function extractTraceContext(metadata: Metadata, base: Context = context.active()): Context {
  return propagation.extract(base, metadata, metadataGetter);
}
