/**
 * A W3C-shaped test propagator: injects the `traceparent` found in the
 * context (or, lacking a context manager in tests, the one set with
 * {@link setTestTraceparent}) and extracts it back into the context.
 */
import { createContextKey, propagation, type Context, type TextMapPropagator } from "@opentelemetry/api";

const key = createContextKey("ferry.test.traceparent");
let current: string | undefined;

/** Sets the traceparent the propagator injects when the context carries none. */
export function setTestTraceparent(value: string | undefined): void {
  current = value;
}

const propagator: TextMapPropagator = {
  inject(ctx: Context, carrier, setter) {
    const value = (ctx.getValue(key) as string | undefined) ?? current;
    if (value !== undefined) setter.set(carrier, "traceparent", value);
  },
  extract(ctx: Context, carrier, getter) {
    const value = getter.get(carrier, "traceparent");
    return typeof value === "string" ? ctx.setValue(key, value) : ctx;
  },
  fields: () => ["traceparent"],
};

/** Registers the test propagator globally (once per test process). */
export function installTestPropagator(): void {
  propagation.setGlobalPropagator(propagator);
}
