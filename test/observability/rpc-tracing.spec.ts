import { randomBytes } from "node:crypto";
import { context, propagation, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, FerryError, type Server } from "../../src/index.js";
import "../../src/transport/nats/index.js";
import { EchoService } from "../gen/ferry/test/v1/echo_pb.js";
import { echoImpl } from "../support/echo-service.js";
import { checkService } from "../support/services.js";
import { eventually, metricPoints, startOtelHarness, type OtelHarness } from "./otel-harness.js";

const nats = await checkService("NATS", "127.0.0.1", 4222);
const ECHO = "ferry.test.v1.EchoService/Echo";

interface Case {
  readonly transport: string;
  readonly listen: string;
  readonly skip?: boolean;
  readonly system: string;
}

const cases: Case[] = [
  { transport: "inproc", listen: `inproc://otel-${randomBytes(3).toString("hex")}`, system: "ferry" },
  { transport: "native", listen: "native://127.0.0.1:0", system: "ferry" },
  { transport: "grpc", listen: "grpc://127.0.0.1:0", system: "grpc" },
  { transport: "nats", listen: `nats://127.0.0.1:4222?prefix=t${randomBytes(4).toString("hex")}.rpc`, skip: nats.skip, system: "ferry" },
];

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

describe.each(cases)("RPC tracing on $transport", (c) => {
  let otel: OtelHarness;
  let server: Server;
  let target: string;
  let client: ReturnType<typeof createClient<typeof EchoService>>;
  let logs: object[];

  beforeAll(async () => {
    if (c.skip === true) return;
    otel = startOtelHarness();
    logs = [];
    const logger = { error() {}, info() {}, debug() {}, warn: (obj: object) => void logs.push(obj) };
    server = createServer({ logger }).service(EchoService, echoImpl);
    target = (await server.listen(c.listen)).url;
    client = createClient(EchoService, target);
    echoImpl.relay = createClient(EchoService, target);
  });
  afterEach(() => otel?.reset());
  afterAll(async () => {
    if (c.skip === true) return;
    echoImpl.relay = undefined;
    await client[Symbol.asyncDispose]();
    await server.shutdown(100);
    await otel.shutdown();
  });

  it.skipIf(c.skip === true)("makes a client span and a server span, the server a child of the client", async () => {
    await client.echo({ text: "hi" });
    await eventually(() => expect(otel.spansNamed(ECHO)).toHaveLength(2));
    const [serverSpan] = otel.spansNamed(ECHO).filter((s) => s.kind === SpanKind.SERVER);
    const [clientSpan] = otel.spansNamed(ECHO).filter((s) => s.kind === SpanKind.CLIENT);
    expect(serverSpan.spanContext().traceId).toBe(clientSpan.spanContext().traceId);
    expect(parentOf(serverSpan)).toBe(clientSpan.spanContext().spanId);
    expect(clientSpan.attributes).toMatchObject({ "rpc.system": c.system, "rpc.service": "ferry.test.v1.EchoService", "rpc.method": "Echo", "ferry.transport": c.transport, "rpc.grpc.status_code": 0 });
    expect(serverSpan.attributes).toMatchObject({ "rpc.system": c.system, "rpc.method": "Echo", "ferry.transport": c.transport, "rpc.grpc.status_code": 0 });
    expect(clientSpan.status.code).toBe(SpanStatusCode.UNSET);
  });

  it.skipIf(c.skip === true)("continues the trace through a call made inside a handler", async () => {
    await client.echo({ text: "relay" });
    await eventually(() => expect(otel.spansNamed(ECHO)).toHaveLength(4));
    const spans = otel.spansNamed(ECHO);
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    const childOf = (parent: ReadableSpan | undefined) => spans.find((s) => parentOf(s) === parent?.spanContext().spanId);
    const outerClient = childOf(undefined);
    const outerServer = childOf(outerClient);
    const innerClient = childOf(outerServer);
    const innerServer = childOf(innerClient);
    expect([outerClient?.kind, outerServer?.kind, innerClient?.kind, innerServer?.kind]).toEqual([SpanKind.CLIENT, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.SERVER]);
  });

  it.skipIf(c.skip === true)("carries W3C baggage from the caller's context to the handler's", async () => {
    let seen: string | undefined;
    const baggageServer = createServer({ logger: { error() {}, warn() {}, info() {}, debug() {} } }).service(EchoService, {
      echo: (req) => {
        seen = propagation.getBaggage(context.active())?.getEntry("tenant")?.value;
        return { text: req.text };
      },
    });
    const url = (await baggageServer.listen(c.listen.replace(/otel-/, "otel-bag-").replace("prefix=t", "prefix=bag"))).url;
    const caller = createClient(EchoService, url);
    const withBaggage = propagation.setBaggage(context.active(), propagation.createBaggage({ tenant: { value: "acme" } }));
    await context.with(withBaggage, () => caller.echo({ text: "b" }));
    expect(seen).toBe("acme");
    await caller[Symbol.asyncDispose]();
    await baggageServer.shutdown(100);
  });

  it.skipIf(c.skip === true)("marks a failed call as an error with its code, and logs one line with the span's ids", async () => {
    logs.length = 0;
    await expect(client.echo({ text: "down", failCode: Code.UNAVAILABLE })).rejects.toBeInstanceOf(FerryError);
    await eventually(() => expect(otel.spansNamed(ECHO)).toHaveLength(2));
    for (const span of otel.spansNamed(ECHO)) {
      expect(span.attributes["rpc.grpc.status_code"]).toBe(Code.UNAVAILABLE);
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
    }
    const serverSpan = otel.spansNamed(ECHO).find((s) => s.kind === SpanKind.SERVER)!;
    expect(logs).toEqual([expect.objectContaining({ service: "ferry.test.v1.EchoService", method: "Echo", code: "UNAVAILABLE", trace_id: serverSpan.spanContext().traceId, span_id: serverSpan.spanContext().spanId })]);
    expect(typeof (logs[0] as { durationMs: unknown }).durationMs).toBe("number");
  });

  it.skipIf(c.skip === true)("leaves the server span unset for a caller's error (NOT_FOUND), the client span an error", async () => {
    await expect(client.echo({ failCode: Code.NOT_FOUND })).rejects.toBeInstanceOf(FerryError);
    await eventually(() => expect(otel.spansNamed(ECHO)).toHaveLength(2));
    expect(otel.spansNamed(ECHO).find((s) => s.kind === SpanKind.SERVER)!.status.code).toBe(SpanStatusCode.UNSET);
    expect(otel.spansNamed(ECHO).find((s) => s.kind === SpanKind.CLIENT)!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it.skipIf(c.skip === true || c.transport === "nats")("ends a server-streaming call's spans when the stream ends", async () => {
    const got = [];
    for await (const m of client.serverStream({ text: "s", count: 3 })) got.push(m.index);
    expect(got).toEqual([0, 1, 2]);
    const name = "ferry.test.v1.EchoService/ServerStream";
    await eventually(() => expect(otel.spansNamed(name)).toHaveLength(2));
    const server = otel.spansNamed(name).find((s) => s.kind === SpanKind.SERVER)!;
    const clientSpan = otel.spansNamed(name).find((s) => s.kind === SpanKind.CLIENT)!;
    expect(parentOf(server)).toBe(clientSpan.spanContext().spanId);
    expect(server.attributes["rpc.grpc.status_code"]).toBe(0);
  });

  it.skipIf(c.skip === true)("records rpc.server.duration and rpc.client.duration by service, method and status code", async () => {
    const before = await otel.collect();
    const count = (rm: typeof before, name: string, code: number) =>
      metricPoints(rm, name)
        .filter((p) => p.attributes["rpc.method"] === "Echo" && p.attributes["rpc.grpc.status_code"] === code && p.attributes["ferry.transport"] === c.transport)
        .reduce((n, p) => n + (p.value as { count: number }).count, 0);
    const base = { server: count(before, "rpc.server.duration", 0), client: count(before, "rpc.client.duration", 0) };
    for (let i = 0; i < 5; i++) await client.echo({ text: String(i) });
    const after = await otel.collect();
    expect(count(after, "rpc.server.duration", 0) - base.server).toBe(5);
    expect(count(after, "rpc.client.duration", 0) - base.client).toBe(5);
  });
});
