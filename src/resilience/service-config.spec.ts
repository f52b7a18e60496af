import { describe, expect, it } from "vitest";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { parseServiceConfig } from "./service-config.js";

function parseError(input: unknown): FerryError {
  try {
    parseServiceConfig(input);
  } catch (err) {
    if (err instanceof FerryError) return err;
    throw err;
  }
  throw new Error("expected parseServiceConfig to throw");
}

describe("parseServiceConfig()", () => {
  it("parses gRPC's JSON form (durations as strings, codes by name) into milliseconds and codes", () => {
    const config = parseServiceConfig(
      JSON.stringify({
        methodConfig: [
          {
            name: [{ service: "shop.v1.PaymentService", method: "Charge" }],
            timeout: "2.5s",
            retryPolicy: { maxAttempts: 4, initialBackoff: "0.1s", maxBackoff: "1s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE", "aborted"] },
            waitForReady: true,
          },
          { name: [{ service: "shop.v1.InventoryService" }], hedgingPolicy: { maxAttempts: 3, hedgingDelay: "0.05s", nonFatalStatusCodes: [14] } },
          { name: [{}], timeoutMs: 10_000, circuitBreaker: { consecutiveFailures: 5 }, bulkhead: { maxConcurrent: 10 }, rateLimit: { ratePerSecond: 100 } },
        ],
        retryThrottling: { maxTokens: 10, tokenRatio: 0.1 },
        loadBalancingConfig: [{ round_robin: {} }],
      }),
    );
    expect(config).toEqual({
      methodConfig: [
        {
          name: [{ service: "shop.v1.PaymentService", method: "Charge" }],
          timeoutMs: 2500,
          retryPolicy: { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 1000, backoffMultiplier: 2, retryableStatusCodes: [Code.UNAVAILABLE, Code.ABORTED] },
        },
        { name: [{ service: "shop.v1.InventoryService" }], hedgingPolicy: { maxAttempts: 3, hedgingDelayMs: 50, nonFatalStatusCodes: [Code.UNAVAILABLE] } },
        { name: [{}], timeoutMs: 10_000, circuitBreaker: { consecutiveFailures: 5 }, bulkhead: { maxConcurrent: 10 }, rateLimit: { ratePerSecond: 100 } },
      ],
      retryThrottling: { maxTokens: 10, tokenRatio: 0.1 },
    });
  });

  it("lowers maxAttempts above the limit to it, as gRPC does (default 5)", () => {
    const config = parseServiceConfig({ methodConfig: [{ name: [{ service: "a.S" }], retryPolicy: { maxAttempts: 9 } }] });
    expect(config.methodConfig[0].retryPolicy!.maxAttempts).toBe(5);
    const raised = parseServiceConfig({ methodConfig: [{ name: [{ service: "a.S" }], retryPolicy: { maxAttempts: 9 } }] }, { maxAttemptsLimit: 10 });
    expect(raised.methodConfig[0].retryPolicy!.maxAttempts).toBe(9);
  });

  it.each([
    ["not JSON", "{", "serviceConfig is not valid JSON"],
    ["a methodConfig without name", { methodConfig: [{ timeout: "1s" }] }, "methodConfig[0].name must be a non-empty list"],
    ["both policies", { methodConfig: [{ name: [{ service: "a.S" }], retryPolicy: { maxAttempts: 2 }, hedgingPolicy: { maxAttempts: 2 } }] }, "sets both retryPolicy and hedgingPolicy"],
    ["maxAttempts 1", { methodConfig: [{ name: [{ service: "a.S" }], retryPolicy: { maxAttempts: 1 } }] }, "methodConfig[0].retryPolicy.maxAttempts must be >= 2, got 1"],
    ["a bad duration", { methodConfig: [{ name: [{ service: "a.S" }], timeout: "100ms" }] }, 'methodConfig[0].timeout must be a duration such as "1.5s"'],
    ["both timeout forms", { methodConfig: [{ name: [{ service: "a.S" }], timeout: "1s", timeoutMs: 1000 }] }, "timeout and timeoutMs are both set"],
    ["an unknown code", { methodConfig: [{ name: [{ service: "a.S" }], retryPolicy: { maxAttempts: 2, retryableStatusCodes: ["BROKEN"] } }] }, "retryableStatusCodes[0] must be a status code name"],
    ["an empty code list", { methodConfig: [{ name: [{ service: "a.S" }], retryPolicy: { maxAttempts: 2, retryableStatusCodes: [] } }] }, "must name at least one status code"],
    ["a typo", { methodConfig: [{ name: [{ service: "a.S" }], retryPolicy: { maxAttempts: 2, initialBackof: "1s" } }] }, "retryPolicy.initialBackof is not a known field"],
    ["a duplicate name", { methodConfig: [{ name: [{ service: "a.S" }] }, { name: [{ service: "a.S" }] }] }, 'methodConfig[1].name repeats "a.S" of methodConfig[0]'],
    ["a method without service", { methodConfig: [{ name: [{ method: "M" }] }] }, "names a method without a service"],
    ["a rate limit without rate", { methodConfig: [{ name: [{}], rateLimit: { burst: 5 } }] }, "rateLimit.ratePerSecond is required"],
    ["maxTokens over 1000", { retryThrottling: { maxTokens: 1001, tokenRatio: 1 } }, "retryThrottling.maxTokens must be <= 1000"],
    ["a breaker rate of 0", { methodConfig: [{ name: [{}], circuitBreaker: { failureRateThreshold: 0 } }] }, "failureRateThreshold must be > 0"],
    ["a fallback without response", { methodConfig: [{ name: [{}], fallback: { codes: ["UNAVAILABLE"] } }] }, "fallback.response is required"],
    ["maxBackoff below initialBackoff", { methodConfig: [{ name: [{}], retryPolicy: { maxAttempts: 2, initialBackoff: "2s", maxBackoff: "1s" } }] }, "maxBackoff must be >= initialBackoff"],
  ])("rejects %s with INVALID_ARGUMENT and a message naming the field", (_, input, message) => {
    const err = parseError(input);
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.rawMessage).toContain(message);
    expect(err.rawMessage.startsWith("invalid service config: ")).toBe(true);
  });
});
