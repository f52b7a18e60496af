import { SpanKind } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createInProcessTransport, createServer, FerryError, type Server } from "../../src/index.js";
import { Resilience } from "../../src/resilience/index.js";
import { createChannel } from "../../src/channel/index.js";
import { observeChannel, observeResilience } from "../../src/observability/index.js";
import { FakeResolver, fakeTransports } from "../support/channel-fakes.js";
import { EchoService } from "../gen/ferry/test/v1/echo_pb.js";
import { eventually, metricPoints, startOtelHarness, type OtelHarness } from "./otel-harness.js";

const ECHO = "ferry.test.v1.EchoService/Echo";
const silent = { error() {}, warn() {}, info() {}, debug() {} };

describe("observeResilience()", () => {
  let otel: OtelHarness;
  let server: Server;
  let attempts = 0;

  beforeAll(() => {
    otel = startOtelHarness();
    server = createServer({ logger: silent }).service(EchoService, {
      echo: (req) => {
        if (++attempts < 3) throw new FerryError(Code.UNAVAILABLE, "warming up");
        return { text: req.text };
      },
    });
  });
  afterAll(async () => {
    await server.shutdown(0);
    await otel.shutdown();
  });

  it("shows a retried call as one client span with a retry event per attempt and a server span per attempt", async () => {
    const resilience = new Resilience({ methodConfig: [{ name: [{ service: "ferry.test.v1.EchoService" }], retryPolicy: { maxAttempts: 3, initialBackoff: "0.005s" } }] });
    const stop = observeResilience(resilience);
    const client = createClient(EchoService, createInProcessTransport(server), { interceptors: [resilience.interceptor()] });
    expect((await client.echo({ text: "hi" })).text).toBe("hi");
    await eventually(() => expect(otel.spansNamed(ECHO)).toHaveLength(4));
    const [clientSpan] = otel.spansNamed(ECHO).filter((s) => s.kind === SpanKind.CLIENT);
    const serverSpans = otel.spansNamed(ECHO).filter((s) => s.kind === SpanKind.SERVER);
    expect(serverSpans.map((s) => s.parentSpanContext?.spanId)).toEqual([0, 1, 2].map(() => clientSpan.spanContext().spanId));
    expect(serverSpans.map((s) => s.attributes["rpc.grpc.status_code"]).sort()).toEqual([0, Code.UNAVAILABLE, Code.UNAVAILABLE]);
    const retries = clientSpan.events.filter((e) => e.name === "ferry.resilience.retry.attempt");
    expect(retries.map((e) => e.attributes?.["ferry.attempt"])).toEqual([2, 3]);
    expect(retries.every((e) => typeof e.attributes?.["ferry.delayMs"] === "number" && e.attributes["ferry.error.code"] === "UNAVAILABLE")).toBe(true);
    const counted = metricPoints(await otel.collect(), "ferry.resilience.events").find((p) => p.attributes["ferry.event"] === "retry.attempt");
    expect(counted?.value).toBe(2);
    stop();
  });

  it("reports each bulkhead's calls running and waiting as a gauge", async () => {
    const resilience = new Resilience({ methodConfig: [{ name: [{ service: "ferry.test.v1.EchoService" }], bulkhead: { maxConcurrent: 1, maxQueued: 2 } }] });
    const stop = observeResilience(resilience);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = createServer({ logger: silent }).service(EchoService, { echo: async (req) => (await gate, { text: req.text }) });
    const client = createClient(EchoService, createInProcessTransport(slow), { interceptors: [resilience.interceptor()] });
    const calls = [client.echo({ text: "a" }), client.echo({ text: "b" })];
    await eventually(async () => {
      const points = metricPoints(await otel.collect(), "ferry.resilience.bulkhead.calls");
      expect(Object.fromEntries(points.map((p) => [p.attributes["ferry.bulkhead.state"], p.value]))).toEqual({ active: 1, queued: 1 });
    });
    release();
    await Promise.all(calls);
    stop();
    await slow.shutdown(0);
  });

  it("reports each circuit breaker's state as a gauge", async () => {
    const resilience = new Resilience({
      methodConfig: [{ name: [{ service: "ferry.test.v1.EchoService" }], circuitBreaker: { consecutiveFailures: 1, openDurationMs: 60_000 } }],
    });
    const stop = observeResilience(resilience);
    attempts = -10;
    const client = createClient(EchoService, createInProcessTransport(server), { interceptors: [resilience.interceptor()] });
    await expect(client.echo({ text: "x" })).rejects.toBeInstanceOf(FerryError);
    const states = metricPoints(await otel.collect(), "ferry.resilience.circuit_breaker.state");
    expect(states).toEqual([{ attributes: { "ferry.policy": "ferry.test.v1.EchoService" }, value: 2 }]);
    stop();
  });
});

describe("channel events on the call's span", () => {
  it("names the endpoint a channel picked for the call", async () => {
    const otel = startOtelHarness();
    const resolver = new FakeResolver();
    const fakes = fakeTransports();
    const channel = createChannel({ resolver, transportFor: fakes.transportFor, target: "test:///echo" });
    const stop = observeChannel(channel);
    resolver.update("fake://a:1");
    const client = createClient(EchoService, channel);
    expect((await client.echo({ text: "x" })).text).toBe("fake://a:1");
    const [span] = otel.spansNamed(ECHO);
    expect(span.events.find((e) => e.name === "ferry.channel.pick")?.attributes).toEqual({ "ferry.endpoint": "fake://a:1", "ferry.pick_attempt": 1 });
    stop();
    await channel.close();
    await otel.shutdown();
  });
});
