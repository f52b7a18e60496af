import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBroker, type Broker } from "../../src/messaging/index.js";
import { conformanceAdapters, type ConformanceAdapter } from "../messaging/adapters.js";
import { makeContext, runRoot, waitFor, type CaseContext } from "../messaging/conformance-helpers.js";
import { checkService } from "../support/services.js";
import { eventually, metricPoints, startOtelHarness, type OtelHarness } from "./otel-harness.js";

process.env.FERRY_LOG_LEVEL ??= "silent";
const checks = new Map<string, boolean>();
for (const a of conformanceAdapters) checks.set(a.name, a.service === undefined ? false : (await checkService(a.service.name, a.service.host, a.service.port)).skip);

function consumerSpans(otel: OtelHarness, topic: string, group?: string): ReadableSpan[] {
  return otel.spansNamed(`process ${topic}`).filter((s) => group === undefined || s.attributes["messaging.consumer.group.name"] === group);
}

describe.each(conformanceAdapters.map((a) => ({ name: a.name, adapter: a })))("messaging tracing on $name", ({ adapter }: { adapter: ConformanceAdapter }) => {
  const skip = checks.get(adapter.name) === true;
  const root = runRoot();
  const extra: Broker[] = [];
  let otel: OtelHarness;
  let broker: Broker;
  let consumer: Broker;
  let t: CaseContext;

  beforeAll(async () => {
    if (skip) return;
    otel = startOtelHarness();
    broker = await createBroker(adapter.url, { adapterOptions: adapter.adapterOptions });
    t = makeContext(adapter, broker, root, extra);
    consumer = await t.newBroker();
  });
  afterAll(async () => {
    if (skip) return;
    await Promise.all([broker, ...extra].map((b) => b.close()));
    await adapter.cleanup(root);
    await otel.shutdown();
  });

  it.skipIf(skip)("makes a producer span under the caller's span and one consumer span per group, children of and linked to it", async () => {
    const topic = t.topic("traced");
    const groups = [t.group("notification"), t.group("analytics")];
    let seen = 0;
    for (const group of groups) await consumer.subscribe(topic, { group, startAt: "beginning" }, () => void seen++);
    const tracer = trace.getTracer("test");
    await tracer.startActiveSpan("checkout", async (span) => {
      await broker.publish(topic, { text: "order" });
      span.end();
    });
    await waitFor(() => groups.every((g) => consumerSpans(otel, topic.name, g).length === 1), "both consumer spans");
    const [root] = otel.spansNamed("checkout");
    const [producer] = otel.spansNamed(`send ${topic.name}`);
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(producer.attributes).toMatchObject({ "messaging.destination.name": topic.name, "messaging.operation.type": "send" });
    expect(producer.attributes["messaging.message.id"]).toEqual(expect.any(String));
    for (const group of groups) {
      const [span] = consumerSpans(otel, topic.name, group);
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
      expect(span.links.map((l) => l.context.spanId)).toEqual([producer.spanContext().spanId]);
      expect(span.attributes).toMatchObject({ "messaging.message.id": producer.attributes["messaging.message.id"], "ferry.messaging.delivery_attempt": 1, "messaging.operation.type": "process" });
      expect(span.events.map((e) => e.name)).toEqual(["ferry.message.ack"]);
    }
  });

  it.skipIf(skip || adapter.name === "memory")("reports the group's backlog as gauges read from the broker", async () => {
    const topic = t.topic("backlog");
    const group = t.group("slow");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const sub = await consumer.subscribe(topic, { group, startAt: "beginning", prefetch: 1, concurrency: 1 }, async () => {
      started++;
      await gate;
    });
    try {
      for (let i = 0; i < 3; i++) await broker.publish(topic, { text: `m${i}` });
      await waitFor(() => started === 1, "the first message in the handler");
      const read = async (name: string) => metricPoints(await otel.collect(), name).find((p) => p.attributes["messaging.consumer.group.name"] === group)?.value;
      await eventually(async () => expect(await read("ferry.messaging.consumer.pending")).toBe(2), 5000);
      if (adapter.name !== "amqp") expect(await read("ferry.messaging.consumer.unacked")).toBe(1);
    } finally {
      release();
    }
    await waitFor(() => started === 3, "all three messages handled");
    await sub.stop();
  });

  it.skipIf(skip)("shows a redelivery as a second consumer span, and dead-lettering as a span event", async () => {
    const topic = t.topic("failing");
    const group = t.group("flaky");
    let calls = 0;
    await consumer.subscribe(topic, { group, startAt: "beginning", maxDeliveries: 2, backoff: { initialMs: 10, maxMs: 20 } }, () => {
      calls++;
      throw new Error("handler broke");
    });
    await broker.publish(topic, { text: "doomed" });
    await waitFor(() => consumerSpans(otel, topic.name, group).length === 2, "two consumer spans");
    const spans = consumerSpans(otel, topic.name, group).sort((a, b) => Number(a.attributes["ferry.messaging.delivery_attempt"]) - Number(b.attributes["ferry.messaging.delivery_attempt"]));
    expect(spans.map((s) => s.attributes["ferry.messaging.delivery_attempt"])).toEqual([1, 2]);
    for (const s of spans) expect(s.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans[0].events.map((e) => e.name)).toEqual(["exception", "ferry.message.nack"]);
    expect(spans[1].events.map((e) => e.name)).toEqual(["exception", "ferry.message.dead_letter"]);
    expect(spans[0].parentSpanContext?.spanId).toBe(spans[1].parentSpanContext?.spanId);
    expect(calls).toBe(2);
    const rm = await otel.collect();
    const settled = metricPoints(rm, "ferry.messaging.settled.messages").filter((p) => p.attributes["messaging.consumer.group.name"] === group);
    expect(Object.fromEntries(settled.map((p) => [p.attributes["ferry.messaging.outcome"], p.value]))).toEqual({ nack: 1, dead_letter: 1 });
  });
});
