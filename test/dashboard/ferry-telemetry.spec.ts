/**
 * The dashboard fed by Ferry's own instrumentation (ferry/observability's
 * messaging telemetry on the embedded memory broker), through its
 * in-process span processor registered on the application's tracer
 * provider: the topic and consumer groups appear on the map, and a message
 * that fails every attempt shows up as a dead letter with its reason. This
 * pins the attribute and event names the two rooms share.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboardSpanProcessor, TelemetrySink } from "../../src/dashboard/index.js";
import { createBroker, defineTopic, type Broker } from "../../src/messaging/index.js";
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { EchoRequestSchema } from "../gen/ferry/test/v1/echo_pb.js";
import { fastBackoff } from "../messaging/conformance-helpers.js";

process.env.FERRY_LOG_LEVEL ??= "silent";

describe("dashboard fed by Ferry's messaging telemetry", () => {
  const sink = new TelemetrySink();
  const processor = createDashboardSpanProcessor(sink, { flushDelayMs: 10 });
  let provider: NodeTracerProvider;
  let broker: Broker;

  beforeAll(async () => {
    provider = new NodeTracerProvider({ resource: resourceFromAttributes({ "service.name": "shop" }), spanProcessors: [processor] });
    provider.register();
    broker = await createBroker("memory:dashboard-feed");
  });

  /** Flushes the span processor until `condition` holds (10 s at most). */
  async function flushUntil(condition: () => boolean): Promise<void> {
    const until = Date.now() + 10_000;
    for (;;) {
      await processor.forceFlush();
      if (condition()) return;
      if (Date.now() > until) throw new Error("timed out waiting for the spans");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  afterAll(async () => {
    await broker.close();
    trace.disable();
    context.disable();
    propagation.disable();
    await provider.shutdown();
  });

  it("shows the topic, both groups and a dead-lettered message with its reason", async () => {
    const topic = defineTopic("shop.orders.placed", EchoRequestSchema);
    await broker.subscribe(topic, { group: "notification" }, () => {});
    await broker.subscribe(topic, { group: "audit", maxDeliveries: 2, backoff: fastBackoff }, (message) => {
      if (message.text === "poison") throw new FerryError(Code.INVALID_ARGUMENT, "cannot read the order");
    });
    await broker.publish(topic, { text: "ok" });
    await broker.publish(topic, { text: "poison" });
    await flushUntil(() => sink.messaging.deadLetters().length === 1 && sink.messaging.topics()[0]?.groups.length === 2);
    const [flow] = sink.messaging.topics();
    expect(flow).toMatchObject({ topic: "shop.orders.placed", systems: ["memory"], published: 2 });
    expect(flow.groups.find((g) => g.group === "audit")).toMatchObject({ deliveries: 3, failed: 2, redelivered: 1, nacked: 1, deadLettered: 1 });
    expect(sink.messaging.deadLetters()[0]).toMatchObject({ topic: "shop.orders.placed", group: "audit", attempt: 2, reason: "cannot read the order" });
    const ids = sink.topology.graph().edges.map((e) => e.id).sort();
    expect(ids).toEqual([
      "group:shop.orders.placed/audit->service:shop",
      "group:shop.orders.placed/notification->service:shop",
      "service:shop->topic:shop.orders.placed",
      "topic:shop.orders.placed->group:shop.orders.placed/audit",
      "topic:shop.orders.placed->group:shop.orders.placed/notification",
    ]);
  });
});
