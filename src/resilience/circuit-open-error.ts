import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

const circuitOpenKey = Symbol.for("ferry.circuitOpen");

/**
 * The error a circuit breaker rejects calls with: UNAVAILABLE, `retryable`
 * true (another endpoint or a later call may succeed), with the time until
 * the breaker lets probes through in the `ferry-retry-after-ms` trailer.
 * Recognise it with {@link isCircuitOpenError}.
 */
export function circuitOpenError(name: string | undefined, state: "open" | "half-open", retryAfterMs: number): FerryError {
  const who = name === undefined ? "circuit breaker" : `circuit breaker "${name}"`;
  const message =
    state === "open"
      ? `${who} is open; calls are rejected for another ${Math.ceil(retryAfterMs)} ms`
      : `${who} is half-open and every probe slot is taken`;
  const error = new FerryError(Code.UNAVAILABLE, message, {
    retryable: true,
    metadata: { "ferry-retry-after-ms": String(Math.max(0, Math.ceil(retryAfterMs))) },
  });
  Object.defineProperty(error, circuitOpenKey, { value: true, enumerable: false });
  return error;
}

/** True for the rejections of an open (or full half-open) circuit breaker. */
export function isCircuitOpenError(error: unknown): boolean {
  return error instanceof FerryError && (error as unknown as Record<symbol, unknown>)[circuitOpenKey] === true;
}
