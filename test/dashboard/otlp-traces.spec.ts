/**
 * decodeOtlpTraces(): the OTLP/JSON encoding as the specification writes it
 * (hex ids, 64-bit integers as strings, enums as integers, every AnyValue
 * kind) and the caps that bound what one span may retain.
 */
import { describe, expect, it } from "vitest";
import { decodeOtlpTraces, OtlpDecodeError } from "../../src/dashboard/index.js";
import { DEFAULT_SPAN_LIMITS } from "../../src/dashboard/dashboard-span.js";

const TRACE = "5b8efff798038103d269b633813fc60c";
const request = (span: Record<string, unknown>, resource: unknown[] = [{ key: "service.name", value: { stringValue: "payment" } }]) => ({
  resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope: { name: "ferry" }, spans: [{ traceId: TRACE, spanId: "eee19b7ec3c1b174", startTimeUnixNano: "1544712660000000000", endTimeUnixNano: "1544712661000000000", ...span }] }] }],
});

describe("decodeOtlpTraces()", () => {
  it("reads ids, kind, times, status and every AnyValue kind", () => {
    const { spans, rejected } = decodeOtlpTraces(request({
      parentSpanId: "EEE19B7EC3C1B173",
      name: "shop.v1.PaymentService/Charge",
      kind: 2,
      status: { code: 2, message: "card declined" },
      attributes: [
        { key: "s", value: { stringValue: "x" } },
        { key: "i", value: { intValue: "42" } },
        { key: "d", value: { doubleValue: 1.5 } },
        { key: "b", value: { boolValue: true } },
        { key: "a", value: { arrayValue: { values: [{ stringValue: "p" }, { intValue: 1 }] } } },
        { key: "k", value: { kvlistValue: { values: [{ key: "x", value: { boolValue: false } }] } } },
        { key: "rpc.grpc.status_code", value: { intValue: 9 } },
      ],
      events: [{ name: "exception", timeUnixNano: { low: 0, high: 1 }, attributes: [{ key: "exception.message", value: { stringValue: "boom" } }] }],
    }, [{ key: "service.name", value: { stringValue: "payment" } }, { key: "host.name", value: { stringValue: "h1" } }, { key: "process.pid", value: { intValue: 7 } }]));
    expect(rejected).toBe(0);
    expect(spans[0]).toMatchObject({
      traceId: TRACE, spanId: "eee19b7ec3c1b174", parentSpanId: "eee19b7ec3c1b173", kind: "server", service: "payment", instance: "h1:7",
      startMs: 1544712660000, durationMs: 1000, status: "error", statusMessage: "card declined", code: "FAILED_PRECONDITION",
      attributes: { s: "x", i: 42, d: 1.5, b: true, a: '["p",1]', k: '{"x":false}', "rpc.grpc.status_code": 9 },
      events: [{ name: "exception", timeMs: 4294967296 / 1e6, attributes: { "exception.message": "boom" } }],
    });
  });

  it("names a missing service unknown_service and a span without status OK", () => {
    const [span] = decodeOtlpTraces(request({ name: "x" }, [])).spans;
    expect(span).toMatchObject({ service: "unknown_service", instance: undefined, status: "unset", code: "OK", kind: "internal", parentSpanId: undefined });
  });

  it("caps attributes, value length and events per span", () => {
    const attributes = Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: { stringValue: "v".repeat(i === 0 ? 5_000 : 1) } }));
    const events = Array.from({ length: 100 }, (_, i) => ({ name: `e${i}`, timeUnixNano: "1" }));
    const [span] = decodeOtlpTraces(request({ name: "x", attributes, events })).spans;
    expect(Object.keys(span.attributes)).toHaveLength(DEFAULT_SPAN_LIMITS.maxAttributesPerSpan);
    expect(span.attributes.k0).toHaveLength(DEFAULT_SPAN_LIMITS.maxAttributeValueLength + 1);
    expect(String(span.attributes.k0).endsWith("…")).toBe(true);
    expect(span.events).toHaveLength(DEFAULT_SPAN_LIMITS.maxEventsPerSpan);
  });

  it.each([
    [{ traceId: "00000000000000000000000000000000" }, /traceId/],
    [{ spanId: "zz" }, /spanId/],
    [{ startTimeUnixNano: "soon" }, /nanosecond timestamps/],
  ])("rejects a span with %j and keeps reading", (bad, reason) => {
    const body = request({ name: "ok" });
    body.resourceSpans[0].scopeSpans[0].spans.push({ ...body.resourceSpans[0].scopeSpans[0].spans[0], spanId: "aaaaaaaaaaaaaaaa", ...bad });
    const decoded = decodeOtlpTraces(body);
    expect(decoded.spans).toHaveLength(1);
    expect(decoded.rejected).toBe(1);
    expect(decoded.firstError).toMatch(reason);
  });

  it("throws OtlpDecodeError for a body that is not the request message", () => {
    expect(() => decodeOtlpTraces("x")).toThrow(OtlpDecodeError);
    expect(() => decodeOtlpTraces({ resourceSpans: [{ scopeSpans: 1 }] })).toThrow(/scopeSpans must be an array/);
    expect(decodeOtlpTraces({}).spans).toEqual([]);
  });
});
