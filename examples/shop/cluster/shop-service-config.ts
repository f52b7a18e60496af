import { Code, FerryError, isCircuitOpenError } from "../../../src/index.js";

/**
 * The message checkout fails with while the payment client's circuit breaker
 * is open (status UNAVAILABLE, HTTP 503 through the gateway). The order
 * service prefixes it with "payment failed: " and says the reserved stock
 * was released.
 */
export const PAYMENT_UNAVAILABLE_MESSAGE = "payment is temporarily unavailable, try again later";

/** Every call's budget unless its method says otherwise, in milliseconds. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** The payment client's timeout per Charge/Refund (all attempts), in milliseconds. */
export const PAYMENT_TIMEOUT_MS = 5_000;

/** Idempotent calls (reads, and Reserve with its reservation id): retried on UNAVAILABLE (a dead instance's in-flight calls go to another). */
const readRetry = {
  maxAttempts: 3,
  initialBackoffMs: 50,
  maxBackoffMs: 500,
  backoffMultiplier: 2,
  retryableStatusCodes: ["UNAVAILABLE"],
};

/**
 * The shop's client-side service config (docs/resilience.md), shared by every
 * process of the separate-process shop. Writes that are not idempotent
 * (Release, AddItem, RemoveItem, ClearCart, Checkout) get a timeout and no
 * retry policy: only the channel's transparent retry resends them, and only
 * when they never reached a server (connection refused). Reads are retried on
 * UNAVAILABLE, and so is Reserve, which carries a reservation id (a repeat
 * takes the stock once). Charge carries the order id as idempotency key, so
 * it is retried once. The payment service has a circuit breaker: three
 * failed attempts in a row (or half of at least six within 10 s) open it for
 * 10 s; while open, Charge fails at once with
 * {@link PAYMENT_UNAVAILABLE_MESSAGE} (UNAVAILABLE) instead of calling the
 * provider. Retry throttling (gRFC A6) caps retries during an outage: 20
 * tokens, retries only above 10, each success adds 0.2.
 */
export function shopServiceConfig() {
  return {
    methodConfig: [
      {
        name: [
          { service: "shop.v1.InventoryService", method: "ListProducts" },
          { service: "shop.v1.InventoryService", method: "GetProduct" },
          { service: "shop.v1.CartService", method: "GetCart" },
          { service: "shop.v1.OrderService", method: "GetOrder" },
          { service: "shop.v1.InventoryService", method: "Reserve" },
        ],
        timeoutMs: 2_000,
        retryPolicy: readRetry,
      },
      { name: [{ service: "shop.v1.InventoryService" }, { service: "shop.v1.CartService" }], timeoutMs: 3_000 },
      { name: [{ service: "shop.v1.OrderService", method: "Checkout" }], timeoutMs: 15_000 },
      {
        name: [{ service: "shop.v1.PaymentService" }],
        timeoutMs: PAYMENT_TIMEOUT_MS,
        retryPolicy: { ...readRetry, maxAttempts: 2 },
        circuitBreaker: { consecutiveFailures: 3, failureRateThreshold: 0.5, minimumCalls: 6, windowMs: 10_000, openDurationMs: 10_000, halfOpenMaxCalls: 1 },
        fallback: { response: paymentUnavailable, codes: [], onCircuitOpen: true },
      },
      { name: [{}], timeoutMs: DEFAULT_CALL_TIMEOUT_MS },
    ],
    retryThrottling: { maxTokens: 20, tokenRatio: 0.2 },
  };
}

/** The payment fallback: an open breaker becomes the clear degraded error; anything else passes through. */
function paymentUnavailable(error: FerryError): never {
  if (!isCircuitOpenError(error)) throw error;
  throw new FerryError(Code.UNAVAILABLE, PAYMENT_UNAVAILABLE_MESSAGE, { cause: error, metadata: error.metadata });
}
