/**
 * The dashboard fed by Ferry's own instrumentation (ferry/observability's
 * messaging telemetry on the embedded memory broker), through its
 * in-process span processor registered on the application's tracer
 * provider: the topic and consumer groups appear on the map, a message
 * that fails every attempt shows up as a dead letter with its reason, and
 * the re-drive action moves it back to the group. This pins the attribute
 * and event names the two rooms share.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDRIVE_PATH, startDashboard, type Dashboard } from "../../src/dashboard/index.js";
import { createBroker, defineTopic, type Broker } from "../../src/messaging/index.js";
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { EchoRequestSchema } from "../gen/ferry/test/v1/echo_pb.js";
import { fastBackoff } from "../messaging/conformance-helpers.js";

process.env.FERRY_LOG_LEVEL ??= "silent";

describe("dashboard fed by Ferry's messaging telemetry", () => {
  let provider: NodeTracerProvider;
  let broker: Broker;
  let dashboard: Dashboard;
  const auditSaw: string[] = [];
  let poisonCured = false;

  beforeAll(async () => {
    broker = await createBroker("memory:dashboard-feed");
    dashboard = await startDashboard({ port: 0, broker });
    provider = new NodeTracerProvider({ resource: resourceFromAttributes({ "service.name": "shop" }), spanProcessors: [dashboard.spanProcessor] });
    provider.register();
  });

  /** Flushes the span processor until `condition` holds (10 s at most). */
  async function flushUntil(condition: () => boolean): Promise<void> {
    const until = Date.now() + 10_000;
    for (;;) {
      await dashboard.spanProcessor.forceFlush();
      if (condition()) return;
      if (Date.now() > until) throw new Error("timed out waiting for the spans");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  afterAll(async () => {
    await dashboard.close();
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
      auditSaw.push(message.text);
      if (message.text === "poison" && !poisonCured) throw new FerryError(Code.INVALID_ARGUMENT, "cannot read the order");
    });
    await broker.publish(topic, { text: "ok" });
    await broker.publish(topic, { text: "poison" });
    const sink = dashboard.sink;
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

  it("re-drives the group's dead letter back to it (POST /api/messaging/redrive)", async () => {
    poisonCured = true;
    const [letter] = dashboard.sink.messaging.deadLetters();
    const res = await fetch(new URL(REDRIVE_PATH, dashboard.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: letter.topic, group: letter.group, deadLetterTopic: letter.deadLetterTopic }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ moved: 1, skipped: 0 });
    const until = Date.now() + 10_000;
    while (auditSaw.filter((t) => t === "poison").length < 3 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(auditSaw.filter((t) => t === "poison")).toHaveLength(3);
  });

  it("refuses a re-drive from another origin, of another media type, or without a group", async () => {
    const post = (headers: Record<string, string>, body: unknown) => fetch(new URL(REDRIVE_PATH, dashboard.url), { method: "POST", headers, body: JSON.stringify(body) });
    const valid = { topic: "shop.orders.placed", group: "audit" };
    expect((await post({ "content-type": "application/json", origin: "http://evil.example" }, valid)).status).toBe(403);
    expect((await post({ "content-type": "text/plain" }, valid)).status).toBe(415);
    expect((await post({ "content-type": "application/json" }, { topic: "shop.orders.placed" })).status).toBe(400);
    expect((await fetch(new URL(REDRIVE_PATH, dashboard.url))).status).toBe(405);
  });

  it("answers 501 when the dashboard has no broker", async () => {
    const bare = await startDashboard({ port: 0 });
    try {
      const res = await fetch(new URL(REDRIVE_PATH, bare.url), { method: "POST", headers: { "content-type": "application/json" }, body: '{"topic":"t","group":"g"}' });
      expect(res.status).toBe(501);
      expect(((await res.json()) as { message: string }).message).toMatch(/startDashboard\(\{ broker \}\)/);
    } finally {
      await bare.close();
    }
  });
});
