/**
 * The dashboard's stores, fed by the real OpenTelemetry SDK through the
 * in-process span processor and by hand-made spans: topology edges (RPC and
 * message flow, spans arriving in any order), call statistics by status
 * code with percentiles, trace retention by count, bytes and spans per
 * trace, and trace search.
 */
import { describe, expect, it } from "vitest";
import { TelemetrySink, createDashboardSpanProcessor } from "../../src/dashboard/index.js";
import type { DashboardSpan } from "../../src/dashboard/index.js";
import { WindowedStats } from "../../src/dashboard/windowed-stats.js";
import { createShopTelemetry, ORDERS_TOPIC, type ShopTelemetry } from "./shop-telemetry.js";

let nextId = 1;
/** A span with fresh ids; `over` replaces any field. */
function span(over: Partial<DashboardSpan> = {}): DashboardSpan {
  const id = (nextId++).toString(16).padStart(16, "0");
  return {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: id, parentSpanId: undefined, name: "shop.v1.CartService/AddItem", kind: "server",
    service: "cart", instance: undefined, startMs: Date.now() - 10, durationMs: 5, status: "unset", statusMessage: undefined, code: "OK",
    attributes: {}, events: [], bytes: 300, ...over,
  };
}

/** A sink fed in-process with a checkout, a failed checkout and whatever `more` emits. */
async function feedShop(more: (shop: ShopTelemetry) => void): Promise<TelemetrySink> {
  const sink = new TelemetrySink();
  const processor = createDashboardSpanProcessor(sink, { flushDelayMs: 5 });
  const shop = createShopTelemetry({ processor });
  shop.checkout();
  shop.checkout({ failPayment: true });
  more(shop);
  await processor.forceFlush();
  await shop.shutdown();
  return sink;
}

describe("TelemetrySink", () => {
  describe("fed by the in-process span processor", () => {
    it("draws RPC edges and the topic → group → service flow of a checkout", async () => {
      const sink = await feedShop(() => {});
      const { nodes, edges } = sink.topology.graph();
      expect(nodes.filter((n) => n.kind === "service").map((n) => n.label).sort()).toEqual(["gateway", "inventory", "notification", "order", "payment"]);
      const byId = new Map(edges.map((e) => [e.id, e]));
      expect(byId.get("service:order->service:payment")).toMatchObject({ kind: "rpc", count: 2, errorRate: 0.5, codes: { OK: 1, UNAVAILABLE: 1 }, operations: ["shop.v1.PaymentService/Charge"] });
      expect(byId.get(`service:order->topic:${ORDERS_TOPIC}`)).toMatchObject({ kind: "publish", count: 1 });
      expect(byId.get(`topic:${ORDERS_TOPIC}->group:${ORDERS_TOPIC}/notification`)).toMatchObject({ kind: "deliver" });
      expect(byId.get(`group:${ORDERS_TOPIC}/inventory-audit->service:inventory`)).toMatchObject({ kind: "consume" });
      expect(nodes.find((n) => n.id === "service:payment")).toMatchObject({ health: "failing", instances: ["payment-1"], transports: ["native"] });
    });

    it("counts deliveries, redeliveries, nacks and dead letters per consumer group, and policy events", async () => {
      let poison = "";
      const sink = await feedShop((shop) => (poison = shop.poisonMessage()));
      const [topic] = sink.messaging.topics();
      expect(topic).toMatchObject({ topic: ORDERS_TOPIC, systems: ["memory"], published: 2 });
      expect(topic.groups.find((g) => g.group === "notification")).toMatchObject({ services: ["notification"], deliveries: 4, failed: 3, redelivered: 2, nacked: 2, deadLettered: 1 });
      expect(topic.groups.find((g) => g.group === "inventory-audit")).toMatchObject({ deliveries: 1, failed: 0, deadLettered: 0 });
      expect(sink.messaging.deadLetters()).toEqual([expect.objectContaining({
        topic: ORDERS_TOPIC, group: "notification", service: "notification", messageId: "poison-1", attempt: 3,
        reason: "INVALID_ARGUMENT: order total is not a number", deadLetterTopic: `${ORDERS_TOPIC}.dlq`, traceId: poison,
      })]);
      expect(sink.policyEvents.counts()).toEqual([expect.objectContaining({ service: "order", operation: "shop.v1.PaymentService/Charge", event: "ferry.resilience.retry.attempt", count: 1 })]);
      expect(sink.policyEvents.recent()[0].attributes).toMatchObject({ "ferry.policy": "payment", "ferry.attempt": 2 });
    });

    it("stores a burst in slices, without being flushed", async () => {
      const sink = new TelemetrySink();
      const processor = createDashboardSpanProcessor(sink, { flushDelayMs: 1 });
      const shop = createShopTelemetry({ processor });
      for (let i = 0; i < 120; i++) shop.checkout();
      await expect.poll(() => sink.usage.spans, { timeout: 5_000 }).toBe(1_200);
      expect(processor.droppedSpans).toBe(0);
      await shop.shutdown();
    });

    it("drops spans beyond maxQueuedSpans and counts them", async () => {
      const sink = new TelemetrySink();
      const processor = createDashboardSpanProcessor(sink, { maxQueuedSpans: 3, flushDelayMs: 60_000 });
      const shop = createShopTelemetry({ processor });
      shop.checkout();
      expect(processor.droppedSpans).toBe(7);
      await processor.forceFlush();
      expect(sink.usage.spans).toBe(3);
      await shop.shutdown();
    });
  });

  describe("topology", () => {
    it("pairs a SERVER span with its CLIENT parent whichever arrives first", () => {
      const sink = new TelemetrySink();
      const client = span({ kind: "client", service: "web" });
      const server = span({ kind: "server", service: "cart", parentSpanId: client.spanId });
      sink.addSpans([server]);
      expect(sink.topology.graph().edges).toEqual([]);
      sink.addSpans([client]);
      expect(sink.topology.graph().edges.map((e) => e.id)).toEqual(["service:web->service:cart"]);
    });

    it("keeps at most maxPendingLinks SERVER spans waiting for their parent", () => {
      const sink = new TelemetrySink({ maxPendingLinks: 1 });
      const clients = [span({ kind: "client", service: "a" }), span({ kind: "client", service: "b" })];
      sink.addSpans(clients.map((c) => span({ kind: "server", service: "cart", parentSpanId: c.spanId })));
      sink.addSpans(clients);
      expect(sink.topology.graph().edges.map((e) => e.id)).toEqual(["service:b->service:cart"]);
    });

    it("draws each RPC service of a process hosting several as its own node, with the gateway's calls", () => {
      const sink = new TelemetrySink();
      const rpc = (name: string) => ({ "rpc.service": `shop.v1.${name}` });
      // One batch, in end order: children end before their parents.
      const http = span({ kind: "server", service: "shop", name: "POST /v1/carts/{userId}/checkout", attributes: { "http.route": "/v1/carts/{userId}/checkout" } });
      const order = span({ kind: "server", service: "shop", parentSpanId: http.spanId, name: "shop.v1.OrderService/Checkout", attributes: rpc("OrderService") });
      const call = span({ kind: "client", service: "shop", parentSpanId: order.spanId, name: "shop.v1.PaymentService/Charge", attributes: rpc("PaymentService") });
      const payment = span({ kind: "server", service: "shop", parentSpanId: call.spanId, name: "shop.v1.PaymentService/Charge", attributes: rpc("PaymentService") });
      const publish = span({ kind: "producer", service: "shop", parentSpanId: order.spanId, name: "send shop.order.placed", attributes: { "messaging.destination.name": "shop.order.placed" } });
      const consume = span({ kind: "consumer", service: "shop", parentSpanId: publish.spanId, name: "process shop.order.placed", attributes: { "messaging.destination.name": "shop.order.placed", "messaging.consumer.group.name": "notification" } });
      sink.addSpans([payment, call, publish, consume, order, http]);
      const { nodes, edges } = sink.topology.graph();
      expect(nodes.filter((n) => n.kind === "service").map((n) => [n.id, n.label, n.process ?? ""]).sort()).toEqual([
        ["service:shop", "shop", ""],
        ["service:shop/shop.v1.OrderService", "OrderService", "shop"],
        ["service:shop/shop.v1.PaymentService", "PaymentService", "shop"],
      ]);
      expect(edges.map((e) => e.id).sort()).toEqual([
        "group:shop.order.placed/notification->service:shop",
        "service:shop->service:shop/shop.v1.OrderService",
        "service:shop/shop.v1.OrderService->service:shop/shop.v1.PaymentService",
        "service:shop/shop.v1.OrderService->topic:shop.order.placed",
        "topic:shop.order.placed->group:shop.order.placed/notification",
      ]);
    });

    it("keeps a process serving one RPC service (plus health and reflection) as one node", () => {
      const sink = new TelemetrySink();
      const client = span({ kind: "client", service: "order" });
      sink.addSpans([
        span({ kind: "server", service: "payment", parentSpanId: client.spanId, attributes: { "rpc.service": "shop.v1.PaymentService" } }),
        span({ kind: "server", service: "payment", attributes: { "rpc.service": "grpc.health.v1.Health" } }),
        span({ kind: "server", service: "payment", attributes: { "rpc.service": "grpc.reflection.v1.ServerReflection" } }),
        client,
      ]);
      expect(sink.topology.graph().edges.map((e) => e.id)).toEqual(["service:order->service:payment"]);
    });
  });

  describe("calls", () => {
    it("counts calls by status code with percentiles over the window", () => {
      const sink = new TelemetrySink();
      const spans = Array.from({ length: 100 }, (_, i) => span({ durationMs: i + 1, code: i < 10 ? "UNAVAILABLE" : "OK" }));
      sink.addSpans(spans);
      const [row] = sink.calls.rows();
      expect(row).toMatchObject({ service: "cart", side: "server", count: 100, errors: 10, errorRate: 0.1, codes: { OK: 90, UNAVAILABLE: 10 } });
      // Log-scale buckets: within 12 % of the exact nearest-rank values 50, 90 and 99.
      expect(row.p50Ms! / 50).toBeCloseTo(1, 0);
      expect(Math.abs(row.p90Ms! / 90 - 1)).toBeLessThan(0.12);
      expect(Math.abs(row.p99Ms! / 99 - 1)).toBeLessThan(0.12);
    });

    it("keeps at most maxSeries series, dropping the least recently updated", () => {
      const sink = new TelemetrySink({ maxSeries: 2 });
      sink.addSpans([span({ name: "a" }), span({ name: "b" }), span({ name: "c" })]);
      expect(sink.calls.rows().map((r) => r.operation).sort()).toEqual(["b", "c"]);
    });
  });

  describe("traces", () => {
    it("evicts the oldest traces beyond maxTraces and maxSpanBytes", () => {
      const sink = new TelemetrySink({ maxTraces: 2, maxSpanBytes: 1_000 });
      const ids = ["1", "2", "3"].map((d) => d.repeat(32));
      for (const traceId of ids) sink.addSpans([span({ traceId, bytes: 300 })]);
      expect(sink.traces.search().map((t) => t.traceId)).toEqual([ids[2], ids[1]]);
      sink.addSpans([span({ traceId: ids[2], bytes: 500 })]);
      expect(sink.traces.search().map((t) => t.traceId)).toEqual([ids[2]]);
      expect(sink.usage).toMatchObject({ traces: 1, spans: 2, bytes: 800 });
    });

    it("keeps maxSpansPerTrace spans of a trace and counts the rest as dropped", () => {
      const sink = new TelemetrySink({ maxSpansPerTrace: 2 });
      sink.addSpans([span(), span(), span()]);
      expect(sink.traces.search()[0]).toMatchObject({ spanCount: 2, droppedSpans: 1 });
    });

    it("searches by service, method, status and minimum duration", () => {
      const sink = new TelemetrySink();
      const slow = "a".repeat(32);
      const failed = "b".repeat(32);
      sink.addSpans([
        span({ traceId: slow, service: "order", name: "shop.v1.OrderService/PlaceOrder", attributes: { "rpc.method": "PlaceOrder" }, durationMs: 800 }),
        span({ traceId: failed, service: "payment", name: "shop.v1.PaymentService/Charge", status: "error", code: "UNAVAILABLE" }),
      ]);
      const ids = (q: Parameters<typeof sink.traces.search>[0]) => sink.traces.search(q).map((t) => t.traceId);
      expect(ids({ service: "order" })).toEqual([slow]);
      expect(ids({ method: "PlaceOrder" })).toEqual([slow]);
      expect(ids({ status: "error" })).toEqual([failed]);
      expect(ids({ status: "UNAVAILABLE" })).toEqual([failed]);
      expect(ids({ status: "ok" })).toEqual([slow]);
      expect(ids({ minDurationMs: 500 })).toEqual([slow]);
      expect(sink.traces.search({ status: "error" })[0]).toMatchObject({ error: true, errorCodes: ["UNAVAILABLE"], rootService: "payment" });
    });
  });
});

describe("WindowedStats", () => {
  it("forgets calls older than the window and gives one point per bucket", () => {
    const stats = new WindowedStats({ bucketMs: 1_000, windowMs: 5_000 });
    const now = 1_000_000;
    stats.record(now - 10_000, 5, "OK", false, now);
    stats.record(now - 1_500, 5, "OK", false, now);
    stats.record(now, 7, "INTERNAL", true, now);
    expect(stats.summary(now)).toMatchObject({ count: 2, errors: 1, codes: { OK: 1, INTERNAL: 1 } });
    // Over the 2 s since the oldest bucket with calls, at least one bucket (1 s).
    expect(stats.summary(now).ratePerSec).toBe(1);
    const series = stats.series(now);
    expect(series).toHaveLength(5);
    expect(series.map((p) => p.count)).toEqual([0, 0, 1, 0, 1]);
    expect(stats.summary(now + 10_000).count).toBe(0);
  });
});
