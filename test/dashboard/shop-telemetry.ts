/**
 * Telemetry of a small shop, made with the real OpenTelemetry SDK: one
 * tracer provider per service (its own `service.name` resource), exporting
 * with `@opentelemetry/exporter-trace-otlp-http` (OTLP/HTTP JSON) to a
 * dashboard, or handing spans to an in-process span processor.
 *
 * A checkout: gateway → order (PlaceOrder) → inventory (Reserve) and
 * payment (Charge), then order publishes `shop.orders.placed`, consumed by
 * the `notification` and `inventory-audit` consumer groups. A failing
 * checkout has payment answer UNAVAILABLE after a retry.
 */
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OTLPProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ATTR_ERROR_TYPE, ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import {
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_RPC_GRPC_STATUS_CODE,
  ATTR_RPC_METHOD,
  ATTR_RPC_SERVICE,
  ATTR_RPC_SYSTEM,
  ATTR_SERVICE_INSTANCE_ID,
} from "@opentelemetry/semantic-conventions/incubating";

export const SHOP_SERVICES = ["gateway", "order", "inventory", "payment", "notification"] as const;
export type ShopService = (typeof SHOP_SERVICES)[number];
export const ORDERS_TOPIC = "shop.orders.placed";

/**
 * Where the spans go: a dashboard's OTLP/HTTP receiver (JSON, or binary
 * protobuf with `protobuf: true`), or a span processor in this process.
 */
export type ShopSink = { readonly url: string; readonly headers?: Record<string, string>; readonly protobuf?: boolean } | { readonly processor: SpanProcessor };

/** Tracers of the shop's services and a way to flush them. */
export interface ShopTelemetry {
  /** Emits one checkout trace; returns its trace id. */
  checkout(options?: CheckoutOptions): string;
  /**
   * Emits a message the `notification` group cannot handle: three failed
   * delivery attempts (nacked twice, then dead-lettered); returns its trace id.
   */
  poisonMessage(): string;
  /** Sends every ended span (waits for the exporters). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** How one checkout goes. */
export interface CheckoutOptions {
  /** Payment answers UNAVAILABLE (after a retry); no order event is published. Default false. */
  readonly failPayment?: boolean;
  /** When the checkout ended, Unix ms. Default now. */
  readonly atMs?: number;
  /** Every duration multiplied by this. Default 1 (the checkout takes 95 ms). */
  readonly slowdown?: number;
}

/** Creates the shop's tracer providers, all sending to `sink`. */
export function createShopTelemetry(sink: ShopSink): ShopTelemetry {
  const providers = SHOP_SERVICES.map((service) => {
    const processor = "processor" in sink ? sink.processor : new BatchSpanProcessor(otlpExporter(sink), { maxQueueSize: 10_000, maxExportBatchSize: 512, scheduledDelayMillis: 100 });
    return new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service, [ATTR_SERVICE_INSTANCE_ID]: `${service}-1` }),
      spanProcessors: [processor],
    });
  });
  const tracers = Object.fromEntries(SHOP_SERVICES.map((s, i) => [s, providers[i].getTracer("ferry", "0.1.0")])) as Record<ShopService, Tracer>;
  return {
    checkout: (options = {}) => emitCheckout(tracers, options),
    poisonMessage: () => emitPoisonMessage(tracers),
    flush: async () => {
      await Promise.all(providers.map((p) => p.forceFlush()));
    },
    shutdown: async () => {
      await Promise.all(providers.map((p) => p.shutdown()));
    },
  };
}

function otlpExporter(sink: { readonly url: string; readonly headers?: Record<string, string>; readonly protobuf?: boolean }): OTLPTraceExporter | OTLPProtoTraceExporter {
  const config = { url: `${sink.url}v1/traces`, headers: sink.headers };
  return sink.protobuf === true ? new OTLPProtoTraceExporter(config) : new OTLPTraceExporter(config);
}

/** A span with explicit times (ms since epoch) under `parent`. */
function span(tracer: Tracer, name: string, kind: SpanKind, parent: Context, startMs: number, attributes: Record<string, string | number>): Span {
  return tracer.startSpan(name, { kind, attributes, startTime: startMs }, parent);
}

/** A client span in `from` and the server span it causes in `to`, both ended with `code`. */
function rpc(tracers: Record<ShopService, Tracer>, from: ShopService, to: ShopService, method: string, parent: Context, t: { startMs: number; code: number }): { client: Span; server: Span; serverContext: Context } {
  const [svc, name] = method.split("/");
  const attributes = { [ATTR_RPC_SYSTEM]: "ferry", [ATTR_RPC_SERVICE]: svc, [ATTR_RPC_METHOD]: name, "ferry.transport": "native" };
  const client = span(tracers[from], method, SpanKind.CLIENT, parent, t.startMs, attributes);
  const clientContext = trace.setSpan(parent, client);
  const server = span(tracers[to], method, SpanKind.SERVER, clientContext, t.startMs + 0.2, attributes);
  for (const s of [client, server]) s.setAttribute(ATTR_RPC_GRPC_STATUS_CODE, t.code);
  if (t.code !== 0) {
    client.setStatus({ code: SpanStatusCode.ERROR, message: "UNAVAILABLE: payment provider down" });
    server.setStatus({ code: SpanStatusCode.ERROR, message: "UNAVAILABLE: payment provider down" });
  }
  return { client, server, serverContext: trace.setSpan(clientContext, server) };
}

function emitCheckout(tracers: Record<ShopService, Tracer>, options: CheckoutOptions): string {
  const failPayment = options.failPayment === true;
  const k = options.slowdown ?? 1;
  const start = (options.atMs ?? Date.now()) - 95 * k;
  const at = (offsetMs: number): number => start + offsetMs * k;
  const root = span(tracers.gateway, "shop.v1.Gateway/Checkout", SpanKind.SERVER, context.active(), at(0), { [ATTR_RPC_SYSTEM]: "grpc", [ATTR_RPC_SERVICE]: "shop.v1.Gateway", [ATTR_RPC_METHOD]: "Checkout", "ferry.transport": "grpc" });
  const rootContext = trace.setSpan(context.active(), root);
  const code = failPayment ? 14 : 0;
  const place = rpc(tracers, "gateway", "order", "shop.v1.OrderService/PlaceOrder", rootContext, { startMs: at(2), code });
  const reserve = rpc(tracers, "order", "inventory", "shop.v1.InventoryService/Reserve", place.serverContext, { startMs: at(5), code: 0 });
  endAll([reserve.server, reserve.client], at(25));
  const charge = rpc(tracers, "order", "payment", "shop.v1.PaymentService/Charge", place.serverContext, { startMs: at(30), code });
  if (failPayment) {
    charge.client.addEvent("ferry.resilience.retry.attempt", { "ferry.policy": "payment", "ferry.attempt": 2, "ferry.delayMs": 10, "ferry.pushback": false, "ferry.error.code": "UNAVAILABLE" }, at(50));
    charge.server.recordException({ name: "FerryError UNAVAILABLE", message: "payment provider down" }, at(68));
  }
  endAll([charge.server, charge.client], at(70));
  if (!failPayment) publishAndConsume(tracers, place.serverContext, at);
  endAll([place.server, place.client], at(92));
  if (failPayment) root.setAttribute(ATTR_RPC_GRPC_STATUS_CODE, 14);
  root.end(at(95));
  return root.spanContext().traceId;
}

function publishAndConsume(tracers: Record<ShopService, Tracer>, parent: Context, at: (offsetMs: number) => number): void {
  const base = { [ATTR_MESSAGING_SYSTEM]: "memory", [ATTR_MESSAGING_DESTINATION_NAME]: ORDERS_TOPIC };
  const send = span(tracers.order, `send ${ORDERS_TOPIC}`, SpanKind.PRODUCER, parent, at(72), { ...base, [ATTR_MESSAGING_OPERATION_TYPE]: "send" });
  send.end(at(75));
  const sendContext = trace.setSpan(parent, send);
  for (const [service, group] of [["notification", "notification"], ["inventory", "inventory-audit"]] as const) {
    const consume = span(tracers[service], `process ${ORDERS_TOPIC}`, SpanKind.CONSUMER, sendContext, at(77), { ...base, [ATTR_MESSAGING_OPERATION_TYPE]: "process", [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: group });
    consume.addEvent("ferry.message.ack", {}, at(86));
    consume.end(at(87));
  }
}

function emitPoisonMessage(tracers: Record<ShopService, Tracer>): string {
  const start = Date.now() - 300;
  const base = { [ATTR_MESSAGING_SYSTEM]: "memory", [ATTR_MESSAGING_DESTINATION_NAME]: ORDERS_TOPIC };
  const send = span(tracers.order, `send ${ORDERS_TOPIC}`, SpanKind.PRODUCER, context.active(), start, { ...base, [ATTR_MESSAGING_OPERATION_TYPE]: "send", [ATTR_MESSAGING_MESSAGE_ID]: "poison-1" });
  send.end(start + 2);
  const sendContext = trace.setSpan(context.active(), send);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const t = start + attempt * 50;
    const consume = span(tracers.notification, `process ${ORDERS_TOPIC}`, SpanKind.CONSUMER, sendContext, t, {
      ...base, [ATTR_MESSAGING_OPERATION_TYPE]: "process", [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: "notification", [ATTR_MESSAGING_MESSAGE_ID]: "poison-1", "ferry.messaging.delivery_attempt": attempt,
    });
    consume.setStatus({ code: SpanStatusCode.ERROR, message: "INVALID_ARGUMENT: order total is not a number" });
    consume.setAttribute(ATTR_ERROR_TYPE, "INVALID_ARGUMENT");
    if (attempt < 3) consume.addEvent("ferry.message.nack", { "ferry.messaging.redelivery_delay_ms": 40 }, t + 4);
    else consume.addEvent("ferry.message.dead_letter", { "ferry.messaging.dead_letter_topic": `${ORDERS_TOPIC}.dlq` }, t + 4);
    consume.end(t + 5);
  }
  return send.spanContext().traceId;
}

function endAll(spans: Span[], endMs: number): void {
  for (const s of spans) s.end(endMs);
}
