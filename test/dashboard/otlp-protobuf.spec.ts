/**
 * The OTLP/HTTP receiver in the binary protobuf encoding: spans from the
 * real `@opentelemetry/exporter-trace-otlp-proto` and metrics from the real
 * `@opentelemetry/exporter-metrics-otlp-proto`, answers in protobuf
 * (`ExportTraceServiceResponse` with partial success, `google.rpc.Status`
 * for errors), decoded here with the same generated descriptors.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { metrics } from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { startDashboard, type Dashboard } from "../../src/dashboard/index.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { ExportTraceServiceRequestSchema, ExportTraceServiceResponseSchema } from "../../src/gen/opentelemetry/proto/collector/trace/v1/trace_service_pb.js";
import { Span_SpanKind } from "../../src/gen/opentelemetry/proto/trace/v1/trace_pb.js";
import { Code } from "../../src/rpc/code.js";
import { createShopTelemetry } from "./shop-telemetry.js";

const open: Dashboard[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

async function start(): Promise<Dashboard> {
  const d = await startDashboard({ port: 0 });
  open.push(d);
  return d;
}

function postProtobuf(d: Dashboard, path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(new URL(path, d.url), { method: "POST", body, headers: { "content-type": "application/x-protobuf", ...headers } });
}

const hex = (s: string): Uint8Array => Buffer.from(s, "hex");
const nowNanos = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** A binary request with one span of `cart`, and one with a span id of the wrong length. */
function request(badSecondSpan: boolean): Uint8Array {
  const span = { traceId: hex("0af7651916cd43dd8448eb211c80319c"), spanId: hex("b7ad6b7169203331"), parentSpanId: hex("00f067aa0ba902b7"), name: "shop.v1.CartService/AddItem", kind: Span_SpanKind.SERVER, startTimeUnixNano: nowNanos(), endTimeUnixNano: nowNanos() + 3_000_000n, attributes: [{ key: "rpc.grpc.status_code", value: { value: { case: "intValue" as const, value: 5n } } }] };
  const spans = badSecondSpan ? [span, { ...span, spanId: hex("b7ad") }] : [span];
  const message = create(ExportTraceServiceRequestSchema, { resourceSpans: [{ resource: { attributes: [{ key: "service.name", value: { value: { case: "stringValue", value: "cart" } } }] }, scopeSpans: [{ spans }] }] });
  return toBinary(ExportTraceServiceRequestSchema, message);
}

describe("OTLP/HTTP receiver, protobuf encoding", () => {
  it("stores the spans @opentelemetry/exporter-trace-otlp-proto sends", async () => {
    const d = await start();
    const shop = createShopTelemetry({ url: d.url, protobuf: true });
    const traceId = shop.checkout({ failPayment: true });
    await shop.flush();
    await shop.shutdown();
    const res = await fetch(new URL(`/api/traces/${traceId}`, d.url));
    expect(res.status).toBe(200);
    const { spans } = (await res.json()) as { spans: { service: string; kind: string; code: string; parentSpanId?: string; events: { name: string }[] }[] };
    expect(spans).toHaveLength(7);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(["gateway", "order", "inventory", "payment"]));
    expect(spans.filter((s) => s.parentSpanId === undefined)).toHaveLength(1);
    expect(spans.some((s) => s.kind === "client" && s.code === "UNAVAILABLE" && s.events.some((e) => e.name === "ferry.resilience.retry.attempt"))).toBe(true);
    expect(d.sink.topology.graph().edges.some((e) => e.source === "service:order" && e.target === "service:payment")).toBe(true);
  });

  it("stores the metrics @opentelemetry/exporter-metrics-otlp-proto sends", async () => {
    const d = await start();
    const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${d.url}v1/metrics` }), exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ "service.name": "order" }), readers: [reader] });
    const gauge = provider.getMeter("ferry").createObservableGauge("ferry.resilience.circuit_breaker.state");
    gauge.addCallback((r) => r.observe(2, { "ferry.policy": "payment" }));
    provider.getMeter("ferry").createCounter("shop.orders").add(3);
    await provider.forceFlush();
    await provider.shutdown();
    metrics.disable();
    const points = d.sink.metrics.points({ service: "order" });
    expect(points.find((p) => p.name === "ferry.resilience.circuit_breaker.state")).toMatchObject({ type: "gauge", value: 2, attributes: { "ferry.policy": "payment" } });
    expect(points.find((p) => p.name === "shop.orders")).toMatchObject({ type: "sum", value: 3 });
  });

  it("answers an empty ExportTraceServiceResponse, or partial success in protobuf", async () => {
    const d = await start();
    const clean = await postProtobuf(d, "/v1/traces", gzipSync(request(false)), { "content-encoding": "gzip" });
    expect(clean.status).toBe(200);
    expect(clean.headers.get("content-type")).toBe("application/x-protobuf");
    expect(fromBinary(ExportTraceServiceResponseSchema, new Uint8Array(await clean.arrayBuffer())).partialSuccess).toBeUndefined();
    const partial = await postProtobuf(d, "/v1/traces", request(true));
    const answer = fromBinary(ExportTraceServiceResponseSchema, new Uint8Array(await partial.arrayBuffer()));
    expect(answer.partialSuccess?.rejectedSpans).toBe(1n);
    expect(answer.partialSuccess?.errorMessage).toMatch(/spanId/);
    const [stored] = d.sink.traces.search({});
    expect(stored.errorCodes).toEqual(["NOT_FOUND"]);
  });

  it("answers 400 with a binary google.rpc.Status for bytes that are not a request", async () => {
    const d = await start();
    const res = await postProtobuf(d, "/v1/traces", Uint8Array.from([0x0a, 0xff, 0xff, 0xff]));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/x-protobuf");
    const status = fromBinary(StatusSchema, new Uint8Array(await res.arrayBuffer()));
    expect(status.code).toBe(Code.INVALID_ARGUMENT);
    expect(status.message).toMatch(/not an OTLP\/protobuf request/);
  });

  it("answers 413 in protobuf for a body over maxBodyBytes", async () => {
    const d = await startDashboard({ port: 0, maxBodyBytes: 64 });
    open.push(d);
    const res = await postProtobuf(d, "/v1/traces", new Uint8Array(1024));
    expect(res.status).toBe(413);
    expect(fromBinary(StatusSchema, new Uint8Array(await res.arrayBuffer())).code).toBe(Code.RESOURCE_EXHAUSTED);
  });
});
