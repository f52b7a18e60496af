/**
 * One checkout in the shop, over HTTP, is one trace: the gateway's HTTP
 * span, the client and server spans of every service call, the producer
 * span of shop.order.placed and the consumer spans of the notification and
 * analytics groups, with the checkout saga's spans in between — on each internal transport and each broker.
 *
 * On a real broker the groups are shared with any other shop running
 * against it at the same time (competing consumers): run this file alone.
 */
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startShop, type Shop } from "../../examples/shop/shop.js";
import { OrderService } from "../../examples/shop/gen/shop/v1/order_pb.js";
import { closeClient, createClient } from "../../src/index.js";
import { checkService } from "../support/services.js";
import { eventually, startOtelHarness, type OtelHarness } from "./otel-harness.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const brokers = [
  { name: "memory", url: undefined, skip: false },
  { name: "nats", url: "nats://127.0.0.1:4222", skip: (await checkService("NATS", "127.0.0.1", 4222)).skip },
  { name: "amqp", url: "amqp://guest:guest@127.0.0.1:5672", skip: (await checkService("RabbitMQ", "127.0.0.1", 5672)).skip },
  { name: "redis", url: "redis://127.0.0.1:6379", skip: (await checkService("Redis", "127.0.0.1", 6379)).skip },
];
const cases = [
  ...brokers.map((b) => ({ ...b, transport: "inproc" as const })),
  { ...brokers[0], transport: "native" as const },
];

function post(shop: Shop, path: string, body?: unknown): Promise<Response> {
  return fetch(shop.httpUrl + path, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Every span of the trace, by span id, and a check that each parent is present. */
function traceOf(otel: OtelHarness, root: ReadableSpan): Map<string, ReadableSpan> {
  const spans = otel.spans().filter((s) => s.spanContext().traceId === root.spanContext().traceId);
  return new Map(spans.map((s) => [s.spanContext().spanId, s]));
}

describe.each(cases)("a shop checkout on $transport with the $name broker", (c) => {
  let otel: OtelHarness;
  let shop: Shop;
  let failing: Shop;
  const user = `trace-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    if (c.skip) return;
    otel = startOtelHarness();
    shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, logger: quiet, broker: c.url, internalTransport: c.transport });
    failing = await startShop({ auth: false, grpcPort: 0, httpPort: 0, logger: quiet, broker: c.url, internalTransport: c.transport, paymentFailureRate: 1 });
  });
  afterAll(async () => {
    if (c.skip) return;
    await shop.close(100);
    await failing.close(100);
    await otel.shutdown();
  });

  it.skipIf(c.skip)("is one trace from the HTTP request to the last consumer, every parent present", async () => {
    expect((await post(shop, `/v1/carts/${user}/items`, { sku: "KB-001", quantity: 1 })).status).toBe(200);
    otel.reset();
    expect((await post(shop, `/v1/carts/${user}/checkout`)).status).toBe(200);
    const http = () => otel.spansNamed("POST /v1/carts/{user_id}/checkout");
    await eventually(() => expect(http()).toHaveLength(1));
    const [root] = http();
    await eventually(() => {
      const consumers = [...traceOf(otel, root).values()].filter((s) => s.name === "process shop.order.placed");
      expect(consumers.map((s) => s.attributes["messaging.consumer.group.name"]).sort()).toEqual(["analytics", "notification"]);
    }, 15_000);
    const spans = traceOf(otel, root);
    expect(root.kind).toBe(SpanKind.SERVER);
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.attributes).toMatchObject({ "http.route": "/v1/carts/{user_id}/checkout", "http.request.method": "POST", "http.response.status_code": 200 });
    expect([...spans.values()].filter((s) => s !== root && !spans.has(s.parentSpanContext?.spanId ?? "")).map((s) => s.name)).toEqual([]);
    const parentName = (s: ReadableSpan) => spans.get(s.parentSpanContext!.spanId)!.name;
    const named = (name: string, kind: SpanKind) => [...spans.values()].filter((s) => s.name === name && s.kind === kind);
    const [order] = named("shop.v1.OrderService/Checkout", SpanKind.SERVER);
    expect(parentName(order)).toBe(root.name);
    // Checkout reads the cart, then runs the shop.checkout saga (docs/consistency.md): its steps' calls are children of the step spans.
    const [saga] = named("saga shop.checkout", SpanKind.INTERNAL);
    expect(parentName(saga)).toBe("shop.v1.OrderService/Checkout");
    const callers: Record<string, string> = {
      "shop.v1.CartService/GetCart": "shop.v1.OrderService/Checkout",
      "shop.v1.PaymentService/Charge": "saga shop.checkout charge-payment",
      "shop.v1.CartService/ClearCart": "saga shop.checkout clear-cart",
    };
    for (const [call, caller] of Object.entries(callers)) {
      const [client] = named(call, SpanKind.CLIENT);
      expect(parentName(client)).toBe(caller);
      if (caller !== "shop.v1.OrderService/Checkout") expect(parentName(spans.get(client.parentSpanContext!.spanId)!)).toBe("saga shop.checkout");
      const [server] = named(call, SpanKind.SERVER);
      expect(server.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
      expect(server.attributes["ferry.transport"]).toBe(c.transport);
      expect(client.attributes["ferry.transport"]).toBe(c.transport); // from ClientTransport.transportName
    }
    const [producer] = named("send shop.order.placed", SpanKind.PRODUCER); // by the outbox relay, in the trace of the step that wrote the event
    expect(parentName(producer)).toBe("saga shop.checkout place-order");
    for (const consumer of named("process shop.order.placed", SpanKind.CONSUMER)) expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
  });

  it.skipIf(c.skip)("continues a gRPC caller's trace: client span, then the shop's spans on grpc and inside", async () => {
    const buyer = `${user}-g`;
    expect((await post(shop, `/v1/carts/${buyer}/items`, { sku: "KB-001", quantity: 1 })).status).toBe(200);
    otel.reset();
    const orders = createClient(OrderService, shop.grpcUrl);
    await orders.checkout({ userId: buyer });
    await closeClient(orders);
    await eventually(() => expect(otel.spansNamed("shop.v1.OrderService/Checkout")).toHaveLength(2));
    const client = otel.spansNamed("shop.v1.OrderService/Checkout").find((s) => s.kind === SpanKind.CLIENT)!;
    const server = otel.spansNamed("shop.v1.OrderService/Checkout").find((s) => s.kind === SpanKind.SERVER)!;
    expect(client.attributes).toMatchObject({ "rpc.system": "grpc", "server.address": "127.0.0.1" });
    expect(server.attributes).toMatchObject({ "rpc.system": "grpc", "ferry.transport": "grpc" });
    expect(server.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
    await eventually(() => expect(otel.spansNamed("shop.v1.PaymentService/Charge").find((s) => s.kind === SpanKind.SERVER)).toBeDefined());
    const charge = otel.spansNamed("shop.v1.PaymentService/Charge").find((s) => s.kind === SpanKind.CLIENT)!;
    const [step] = otel.spansNamed("saga shop.checkout charge-payment");
    const [saga] = otel.spansNamed("saga shop.checkout");
    expect(charge.parentSpanContext?.spanId).toBe(step.spanContext().spanId);
    expect(step.parentSpanContext?.spanId).toBe(saga.spanContext().spanId);
    expect(saga.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
  });

  it.skipIf(c.skip)("marks a failed payment's spans as errors, up to the HTTP span", async () => {
    const buyer = `${user}-f`;
    expect((await post(failing, `/v1/carts/${buyer}/items`, { sku: "KB-001", quantity: 1 })).status).toBe(200);
    otel.reset();
    expect((await post(failing, `/v1/carts/${buyer}/checkout`)).status).toBe(503);
    await eventually(() => expect(otel.spansNamed("POST /v1/carts/{user_id}/checkout")).toHaveLength(1));
    const [root] = otel.spansNamed("POST /v1/carts/{user_id}/checkout");
    await eventually(() => expect(otel.spansNamed("shop.v1.OrderService/Checkout").length).toBeGreaterThan(0));
    const spans = [...traceOf(otel, root).values()];
    const status = (name: string, kind: SpanKind) => spans.find((s) => s.name === name && s.kind === kind)?.status.code;
    expect(status("shop.v1.PaymentService/Charge", SpanKind.SERVER)).toBe(SpanStatusCode.ERROR);
    expect(status("shop.v1.PaymentService/Charge", SpanKind.CLIENT)).toBe(SpanStatusCode.ERROR);
    expect(status("shop.v1.OrderService/Checkout", SpanKind.SERVER)).toBe(SpanStatusCode.ERROR);
    expect(root.status.code).toBe(SpanStatusCode.ERROR);
    expect(root.attributes["http.response.status_code"]).toBe(503);
  });
});
