/**
 * The Messaging view's broker actions over HTTP, on real brokers: the
 * embedded memory broker, NATS JetStream (127.0.0.1:4222) and RabbitMQ
 * (127.0.0.1:5672). A group's dead letters listed with headers and the
 * payload decoded through `messageTypes`; one re-driven by id (404 for an
 * unknown id); a topic replayed to one group from a time (the other group
 * does not see the copies); 501 where RabbitMQ cannot replay; and on NATS
 * the group's pending messages, read from the broker by the consumer
 * backlog gauge and fed to the dashboard by its in-process metric reader.
 */
import { randomBytes } from "node:crypto";
import { createRegistry } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDashboard, type Dashboard } from "../../src/dashboard/index.js";
import { createBroker, defineTopic, type Broker } from "../../src/messaging/index.js";
import { startObservability, type Observability } from "../../src/observability/index.js";
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { EchoRequestSchema, file_ferry_test_v1_echo } from "../gen/ferry/test/v1/echo_pb.js";
import { conformanceAdapters } from "../messaging/adapters.js";
import { fastBackoff } from "../messaging/conformance-helpers.js";
import { checkService } from "../support/services.js";

process.env.FERRY_LOG_LEVEL ??= "silent";

const nats = await checkService("NATS", "127.0.0.1", 4222);
const rabbit = await checkService("RabbitMQ", "127.0.0.1", 5672);

function post(d: Dashboard, path: string, body: unknown): Promise<Response> {
  return fetch(new URL(path, d.url), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function json<T>(res: Response | Promise<Response>): Promise<{ status: number; body: T }> {
  const r = await res;
  return { status: r.status, body: (await r.json()) as T };
}

interface Letter { messageId: string; attempts: number; code: string; reason: string; type?: string; message?: { text: string }; headers: Record<string, string> }

describe("Messaging actions on the memory broker", () => {
  let broker: Broker;
  let dashboard: Dashboard;
  const topic = defineTopic("dash.audit", EchoRequestSchema);
  const audit: string[] = [];
  const billing: string[] = [];
  let cured = false;

  beforeAll(async () => {
    broker = await createBroker("memory:dashboard-actions");
    dashboard = await startDashboard({ port: 0, broker, messageTypes: createRegistry(file_ferry_test_v1_echo) });
    await broker.subscribe(topic, { group: "audit", maxDeliveries: 2, backoff: fastBackoff }, (m) => {
      audit.push(m.text);
      if (!cured && m.text.startsWith("poison")) throw new FerryError(Code.INVALID_ARGUMENT, `cannot audit ${m.text}`);
    });
    await broker.subscribe(topic, { group: "billing" }, (m) => void billing.push(m.text));
  });

  afterAll(async () => {
    await dashboard.close();
    await broker.close();
  });

  it("lists a group's dead letters with headers and the payload decoded by its message type, and re-drives one by id", async () => {
    const first = await broker.publish(topic, { text: "poison-a" });
    await broker.publish(topic, { text: "poison-b" });
    await expect.poll(() => audit.length, { timeout: 10_000 }).toBe(4);
    const q = `api/messaging/dead-letters?topic=${topic.name}&group=audit`;
    const { status, body } = await json<{ letters: Letter[]; full: boolean }>(fetch(new URL(q, dashboard.url)));
    expect(status).toBe(200);
    expect(body.full).toBe(false);
    expect(body.letters.map((l) => l.message?.text).sort()).toEqual(["poison-a", "poison-b"]);
    const a = body.letters.find((l) => l.messageId === first.messageId)!;
    expect(a).toMatchObject({ attempts: 2, code: "INVALID_ARGUMENT", reason: "cannot audit poison-a", type: "ferry.test.v1.EchoRequest" });
    expect(a.headers["ferry-type"]).toBe("ferry.test.v1.EchoRequest");

    expect((await post(dashboard, "api/messaging/redrive", { topic: topic.name, group: "audit", messageId: "no-such-id" })).status).toBe(404);
    cured = true;
    const one = await json<{ moved: number; messageId: string }>(post(dashboard, "api/messaging/redrive", { topic: topic.name, group: "audit", messageId: first.messageId }));
    expect(one).toEqual({ status: 200, body: { moved: 1, skipped: 0, messageId: first.messageId } });
    await expect.poll(() => audit.filter((t) => t === "poison-a").length, { timeout: 10_000 }).toBe(3);
    expect(billing.sort()).toEqual(["poison-a", "poison-b"]);
  });

  it("replays the topic to one group from a time; the other group does not see the copies", async () => {
    const fromMs = Date.now();
    await broker.publish(topic, { text: "r1" });
    await broker.publish(topic, { text: "r2" });
    await expect.poll(() => billing.filter((t) => t.startsWith("r")).length, { timeout: 10_000 }).toBe(2);
    const replay = await json<{ replayed: number; truncated: boolean }>(post(dashboard, "api/messaging/replay", { topic: topic.name, group: "audit", fromMs }));
    expect(replay).toEqual({ status: 200, body: { replayed: 2, truncated: false } });
    await expect.poll(() => audit.filter((t) => t.startsWith("r")).sort(), { timeout: 10_000 }).toEqual(["r1", "r1", "r2", "r2"]);
    expect(billing.filter((t) => t.startsWith("r"))).toEqual(["r1", "r2"]);
    expect((await post(dashboard, "api/messaging/replay", { topic: topic.name, group: "audit", fromMs: "yesterday" })).status).toBe(400);
    expect((await post(dashboard, "api/messaging/replay", { topic: topic.name, group: "audit", fromMs: Date.now() + 60_000 })).status).toBe(400);
  });

  it("answers 501 without a broker", async () => {
    const bare = await startDashboard({ port: 0 });
    try {
      expect((await post(bare, "api/messaging/replay", { topic: "t", group: "g", fromMs: 0 })).status).toBe(501);
      expect((await fetch(new URL("api/messaging/dead-letters?topic=t&group=g", bare.url))).status).toBe(501);
      expect((await json<{ broker: unknown }>(fetch(new URL("api/messaging", bare.url)))).body.broker).toBeNull();
    } finally {
      await bare.close();
    }
  });
});

describe.skipIf(rabbit.skip)(`Messaging actions on RabbitMQ${rabbit.skip ? ` (skipped: ${rabbit.reason})` : ""}`, () => {
  it("answers replay with 501 naming why RabbitMQ cannot replay from a time", async () => {
    const broker = await createBroker(conformanceAdapters.find((a) => a.name === "amqp")!.url);
    const dashboard = await startDashboard({ port: 0, broker });
    try {
      const { status, body } = await json<{ message: string; code: number }>(post(dashboard, "api/messaging/replay", { topic: "dash.replay", group: "g", fromMs: 0 }));
      expect(status).toBe(501);
      expect(body.message).toMatch(/amqp broker cannot replay from a time/);
      expect((await json<{ broker: unknown }>(fetch(new URL("api/messaging", dashboard.url)))).body.broker).toEqual({ kind: "amqp", replayByTime: false });
    } finally {
      await dashboard.close();
      await broker.close();
    }
  });
});

describe.skipIf(nats.skip)(`Messaging actions on NATS JetStream${nats.skip ? ` (skipped: ${nats.reason})` : ""}`, () => {
  const root = `dash${randomBytes(3).toString("hex")}`;
  const nats = conformanceAdapters.find((a) => a.name === "nats")!;
  let broker: Broker;
  let dashboard: Dashboard;
  let observability: Observability;
  let release: () => void = () => {};

  beforeAll(async () => {
    dashboard = await startDashboard({ port: 0 });
    observability = await startObservability({ serviceName: "worker", metricsPort: false, metricReaders: [await dashboard.metricReader(200)] });
    broker = await createBroker(nats.url);
    await dashboard.attach({ broker });
  });

  afterAll(async () => {
    release();
    await broker?.close();
    await observability?.shutdown();
    await dashboard?.close();
    await nats.cleanup(root);
  });

  it("shows a stuck group's pending messages, read from JetStream by the backlog gauge", async () => {
    const topic = defineTopic(`${root}.orders`, EchoRequestSchema);
    const stuck = new Promise<void>((resolve) => (release = resolve));
    await broker.subscribe(topic, { group: "slow", prefetch: 1 }, () => stuck);
    for (let i = 0; i < 6; i++) await broker.publish(topic, { text: `m${i}` });
    type View = { topics: { topic: string; groups: { group: string; pending: number | null; unacked: number | null }[] }[]; broker: unknown };
    const read = async (): Promise<View> => (await (await fetch(new URL("api/messaging", dashboard.url))).json()) as View;
    // Six published, one held by the stuck handler: JetStream counts the rest as pending (num_pending) and one unacked.
    await expect.poll(async () => (await read()).topics.find((t) => t.topic === topic.name)?.groups.find((g) => g.group === "slow")?.pending ?? 0, { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
    const view = await read();
    expect(view.topics.find((t) => t.topic === topic.name)!.groups.find((g) => g.group === "slow")!.unacked).toBeGreaterThanOrEqual(1);
    expect(view.broker).toEqual({ kind: "nats", replayByTime: true });
    release();
  });
});
