/**
 * Renders the trace of one shop checkout (HTTP gateway, native transport,
 * memory broker) as an SVG waterfall, from the spans the real OpenTelemetry
 * SDK exported: `node --import tsx test/observability/checkout-waterfall.ts > docs/observability-checkout.svg`.
 */
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { startShop } from "../../examples/shop/shop.js";
import { eventually, startOtelHarness } from "./otel-harness.js";

const kindColor: Record<number, string> = { [SpanKind.SERVER]: "#4c78a8", [SpanKind.CLIENT]: "#72b7b2", [SpanKind.PRODUCER]: "#f58518", [SpanKind.CONSUMER]: "#b279a2", [SpanKind.INTERNAL]: "#9d9d9d" };
const kindName: Record<number, string> = { [SpanKind.SERVER]: "server", [SpanKind.CLIENT]: "client", [SpanKind.PRODUCER]: "producer", [SpanKind.CONSUMER]: "consumer", [SpanKind.INTERNAL]: "internal" };

function ms(t: [number, number]): number {
  return t[0] * 1000 + t[1] / 1e6;
}

/** The spans in tree order (depth-first, children by start time), each with its depth. */
function ordered(spans: ReadableSpan[]): { span: ReadableSpan; depth: number }[] {
  const children = new Map<string, ReadableSpan[]>();
  for (const s of spans) {
    const p = s.parentSpanContext?.spanId ?? "";
    children.set(p, [...(children.get(p) ?? []), s]);
  }
  const out: { span: ReadableSpan; depth: number }[] = [];
  const visit = (parent: string, depth: number) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => ms(a.startTime) - ms(b.startTime))) {
      out.push({ span: s, depth });
      visit(s.spanContext().spanId, depth + 1);
    }
  };
  visit("", 0);
  return out;
}

function group(span: ReadableSpan): string {
  const g = span.attributes["messaging.consumer.group.name"];
  return typeof g === "string" ? ` (${escape(g)})` : "";
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An SVG waterfall: one row per span, name indented by depth, a bar from start to end, the duration in ms. */
export function renderWaterfall(spans: ReadableSpan[]): string {
  const rows = ordered(spans);
  const t0 = Math.min(...spans.map((s) => ms(s.startTime)));
  const t1 = Math.max(...spans.map((s) => ms(s.endTime)));
  const [labelW, barW, rowH, top] = [430, 520, 22, 40];
  const x = (t: number) => labelW + ((t - t0) / (t1 - t0)) * barW;
  const lines = rows.map(({ span, depth }, i) => {
    const y = top + i * rowH;
    const start = ms(span.startTime);
    const end = ms(span.endTime);
    const color = span.status.code === SpanStatusCode.ERROR ? "#d62728" : kindColor[span.kind];
    const width = Math.max(1.5, x(end) - x(start));
    return [
      `<text x="${8 + depth * 14}" y="${y + 15}" font-size="12">${escape(span.name)} <tspan fill="#777">${kindName[span.kind]}${group(span)}</tspan></text>`,
      `<rect x="${x(start).toFixed(1)}" y="${y + 4}" width="${width.toFixed(1)}" height="14" rx="2" fill="${color}"/>`,
      `<text x="${(x(start) + width + 4).toFixed(1)}" y="${y + 15}" font-size="11" fill="#555">${(end - start).toFixed(2)} ms</text>`,
    ].join("");
  });
  const height = top + rows.length * rowH + 24;
  const width = labelW + barW + 90;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="ui-monospace, monospace">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${labelW}" y="${height - 4}" font-size="11" fill="#777">blue server · teal client · orange producer · purple consumer · red error</text>`,
    `<text x="8" y="22" font-size="14" font-weight="bold">One shop checkout: ${spans.length} spans, ${(t1 - t0).toFixed(1)} ms (trace ${escape(spans[0].spanContext().traceId)})</text>`,
    ...lines,
    `</svg>`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const otel = startOtelHarness();
  const quiet = { error() {}, warn() {}, info() {}, debug() {} };
  const shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, logger: quiet, internalTransport: "native" });
  const post = (path: string, body?: unknown) => fetch(shop.httpUrl + path, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  await post("/v1/carts/ann/items", { sku: "KB-001", quantity: 2 });
  otel.reset();
  await post("/v1/carts/ann/checkout");
  await eventually(() => {
    if (otel.spans().filter((s) => s.name === "process shop.order.placed").length < 2) throw new Error("waiting for consumers");
  }, 10_000);
  const root = otel.spans().find((s) => s.name.startsWith("POST "))!;
  process.stdout.write(renderWaterfall(otel.spans().filter((s) => s.spanContext().traceId === root.spanContext().traceId)) + "\n");
  await shop.close(100);
  await otel.shutdown();
}
