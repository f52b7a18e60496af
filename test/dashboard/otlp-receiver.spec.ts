/**
 * The dashboard's HTTP server: the OTLP/HTTP receiver fed by the real
 * OpenTelemetry exporter, its answers to bad input (400/405/413/415 with a
 * JSON body, never a crash), access control (loopback Host check, token),
 * the JSON API and the live event stream. Servers listen on 127.0.0.1 port 0.
 */
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryRegistry } from "../../src/registry/index.js";
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { startDashboard, type Dashboard, type DashboardOptions } from "../../src/dashboard/index.js";
import { createShopTelemetry } from "./shop-telemetry.js";

const open: Dashboard[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

async function start(options: DashboardOptions = {}): Promise<Dashboard> {
  const d = await startDashboard({ port: 0, ...options });
  open.push(d);
  return d;
}

function post(d: Dashboard, path: string, body: string | Buffer, headers: Record<string, string> = { "content-type": "application/json" }): Promise<Response> {
  return fetch(new URL(path, d.url), { method: "POST", body, headers });
}

const oneSpan = (spanId: string, extra: Record<string, unknown> = {}) => ({
  resourceSpans: [{
    resource: { attributes: [{ key: "service.name", value: { stringValue: "cart" } }] },
    scopeSpans: [{ spans: [{ traceId: "0af7651916cd43dd8448eb211c80319c", spanId, name: "shop.v1.CartService/AddItem", kind: 2, startTimeUnixNano: String(Date.now() * 1e6), endTimeUnixNano: String((Date.now() + 3) * 1e6), attributes: [{ key: "rpc.grpc.status_code", value: { intValue: "5" } }], ...extra }] }],
  }],
});

describe("startDashboard()", () => {
  describe("OTLP/HTTP receiver", () => {
    it("stores the spans the OpenTelemetry OTLP/HTTP exporter sends", async () => {
      const d = await start();
      const shop = createShopTelemetry({ url: d.url });
      const traceId = shop.checkout();
      await shop.flush();
      await shop.shutdown();
      const res = await fetch(new URL(`/api/traces/${traceId}`, d.url));
      expect(res.status).toBe(200);
      const { spans } = (await res.json()) as { spans: { service: string }[] };
      expect(spans).toHaveLength(10);
      expect(new Set(spans.map((s) => s.service))).toEqual(new Set(["gateway", "order", "inventory", "payment", "notification"]));
    });

    it("reads a span's status code and answers {} for a clean batch", async () => {
      const d = await start();
      const res = await post(d, "/v1/traces", JSON.stringify(oneSpan("b7ad6b7169203331")));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
      const [trace] = (await (await fetch(new URL("/api/traces?status=NOT_FOUND", d.url))).json()) as { errorCodes: string[] }[];
      expect(trace.errorCodes).toEqual(["NOT_FOUND"]);
    });

    it("accepts a gzip-encoded body", async () => {
      const d = await start();
      const res = await post(d, "/v1/traces", gzipSync(JSON.stringify(oneSpan("b7ad6b7169203331"))), { "content-type": "application/json", "content-encoding": "gzip" });
      expect(res.status).toBe(200);
      expect(d.sink.usage.spans).toBe(1);
    });

    it("reports unreadable spans as partialSuccess and keeps the others", async () => {
      const d = await start();
      const body = oneSpan("b7ad6b7169203331");
      body.resourceSpans[0].scopeSpans[0].spans.push({ ...body.resourceSpans[0].scopeSpans[0].spans[0], spanId: "xyz" });
      const res = await post(d, "/v1/traces", JSON.stringify(body));
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
      expect(answer.partialSuccess.rejectedSpans).toBe("1");
      expect(answer.partialSuccess.errorMessage).toMatch(/spanId/);
      expect(d.sink.usage.spans).toBe(1);
    });

    it.each([
      ["not JSON", "{nope", 400, /not valid JSON/],
      ["not an object", "[1,2]", 400, /JSON object/],
      ["resourceSpans not an array", '{"resourceSpans":{}}', 400, /resourceSpans must be an array/],
      ["a resourceSpans entry not an object", '{"resourceSpans":[3]}', 400, /resourceSpans\[0\] must be an object/],
    ])("answers 400 with a JSON Status body for a body that is %s", async (_what, body, status, message) => {
      const d = await start();
      const res = await post(d, "/v1/traces", body);
      expect(res.status).toBe(status);
      const answer = (await res.json()) as { code: number; message: string };
      expect(answer.code).toBe(Code.INVALID_ARGUMENT);
      expect(answer.message).toMatch(message);
    });

    it("answers 415 for another media type or content encoding", async () => {
      const d = await start();
      expect((await post(d, "/v1/traces", "x", { "content-type": "text/plain" })).status).toBe(415);
      expect((await post(d, "/v1/traces", "{}", { "content-type": "application/json", "content-encoding": "br" })).status).toBe(415);
    });

    it("answers 413 for a body over maxBodyBytes, raw or inflated", async () => {
      const d = await start({ maxBodyBytes: 1024 });
      const big = JSON.stringify({ resourceSpans: [], pad: "x".repeat(4096) });
      expect((await post(d, "/v1/traces", big)).status).toBe(413);
      const res = await post(d, "/v1/traces", gzipSync(big), { "content-type": "application/json", "content-encoding": "gzip" });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { message: string }).message).toMatch(/maxBodyBytes/);
    });

    it("answers 405 with Allow: POST for a GET", async () => {
      const d = await start();
      const res = await fetch(new URL("/v1/traces", d.url));
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
    });

    it("stores OTLP/JSON metric points", async () => {
      const d = await start();
      const body = { resourceMetrics: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: "order" } }] }, scopeMetrics: [{ metrics: [
        { name: "ferry.resilience.circuit_breaker.state", unit: "1", gauge: { dataPoints: [{ asInt: "1", timeUnixNano: String(Date.now() * 1e6), attributes: [{ key: "ferry.policy", value: { stringValue: "payment" } }] }] } },
        { name: "broken", sum: { dataPoints: [{}] } },
      ] }] }] };
      const res = await post(d, "/v1/metrics", JSON.stringify(body));
      expect(((await res.json()) as { partialSuccess: { rejectedDataPoints: string } }).partialSuccess.rejectedDataPoints).toBe("1");
      const points = (await (await fetch(new URL("/api/metrics?prefix=ferry.", d.url))).json()) as { service: string; value: number; attributes: Record<string, string> }[];
      expect(points).toEqual([expect.objectContaining({ service: "order", value: 1, attributes: { "ferry.policy": "payment" } })]);
    });
  });

  describe("access", () => {
    it("refuses to bind a non-loopback address without a token (INVALID_ARGUMENT)", async () => {
      await expect(startDashboard({ port: 0, host: "0.0.0.0" })).rejects.toSatisfy((e: unknown) => e instanceof FerryError && e.code === Code.INVALID_ARGUMENT && /requires a token/.test(e.message));
      await expect(startDashboard({ port: 0, token: "short" })).rejects.toSatisfy((e: unknown) => e instanceof FerryError && e.code === Code.INVALID_ARGUMENT);
    });

    it("requires the token as Bearer, ?token= (which sets a cookie) or that cookie", async () => {
      const token = "0123456789abcdef0123";
      const d = await start({ token });
      expect(d.url).toMatch(/\?token=0123456789abcdef0123$/);
      const bare = await fetch(new URL("/api/overview", d.url).href.replace(/\?.*/, ""));
      expect(bare.status).toBe(401);
      expect(bare.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await fetch(new URL("/api/overview", d.url), { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const page = await fetch(d.url);
      expect(page.status).toBe(200);
      const cookie = page.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(/HttpOnly/);
      expect((await fetch(new URL("/api/overview", d.url).href.replace(/\?.*/, ""), { headers: { cookie: cookie.split(";")[0] } })).status).toBe(200);
      expect((await post(d, "/v1/traces", "{}", { "content-type": "application/json", authorization: "Bearer wrong-token-wrong-token" })).status).toBe(401);
    });

    it("answers 403 to a foreign Host header on a loopback-bound dashboard (DNS rebinding)", async () => {
      const d = await start();
      const { request } = await import("node:http");
      const status = await new Promise<number>((resolve, reject) => {
        request(new URL("/api/overview", d.url), { headers: { host: "evil.example:80" } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on("error", reject).end();
      });
      expect(status).toBe(403);
    });

    it("fails with FAILED_PRECONDITION naming a missing optional peer", async () => {
      const resolvePeer = (specifier: string): string => {
        if (specifier.startsWith("cytoscape/")) throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: "MODULE_NOT_FOUND" });
        return createRequire(import.meta.url).resolve(specifier);
      };
      await expect(startDashboard({ port: 0, resolvePeer })).rejects.toSatisfy(
        (e: unknown) => e instanceof FerryError && e.code === Code.FAILED_PRECONDITION && e.message.includes('needs the package "cytoscape": npm install cytoscape'),
      );
    });

    it("rejects a limit that is not a positive number (INVALID_ARGUMENT)", async () => {
      await expect(startDashboard({ port: 0, maxTraces: -1 })).rejects.toSatisfy((e: unknown) => e instanceof FerryError && e.code === Code.INVALID_ARGUMENT && /maxTraces/.test(e.message));
    });
  });

  describe("JSON API and live events", () => {
    it("answers 400 for bad query values and 404 for unknown paths and traces", async () => {
      const d = await start();
      expect((await fetch(new URL("/api/traces?minDurationMs=abc", d.url))).status).toBe(400);
      expect((await fetch(new URL("/api/traces?limit=0", d.url))).status).toBe(400);
      expect((await fetch(new URL("/api/traces/xyz", d.url))).status).toBe(400);
      expect((await fetch(new URL(`/api/traces/${"a".repeat(32)}`, d.url))).status).toBe(404);
      expect((await fetch(new URL("/api/nothing", d.url))).status).toBe(404);
      expect((await fetch(new URL("/../../etc/passwd", d.url))).status).toBe(404);
      expect((await fetch(new URL("/api/calls/series?service=x", d.url))).status).toBe(400);
    });

    it("waits up to waitMs for a trace still on its way, then answers it (or 404 when it never comes)", async () => {
      const d = await start();
      const traceId = "0af7651916cd43dd8448eb211c80319c";
      const pending = fetch(new URL(`/api/traces/${traceId}?waitMs=3000`, d.url));
      await new Promise((r) => setTimeout(r, 100));
      expect((await post(d, "/v1/traces", JSON.stringify(oneSpan("b7ad6b7169203332")))).status).toBe(200);
      const res = await pending;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { spans: unknown[] }).spans).toHaveLength(1);
      expect((await fetch(new URL(`/api/traces/${"b".repeat(32)}?waitMs=100`, d.url))).status).toBe(404);
      expect((await fetch(new URL(`/api/traces/${traceId}?waitMs=60000`, d.url))).status).toBe(400);
    });

    it("lists a service's registered instances on the topology, matched by the RPC services it handles", async () => {
      const registry = createMemoryRegistry();
      try {
        await registry.register({ service: "shop.v1.PaymentService", instanceId: "payment-a", endpoints: [{ transport: "grpc", url: "grpc://10.0.0.5:50051" }] });
        const d = await start({ registry });
        const shop = createShopTelemetry({ url: d.url });
        shop.checkout();
        await shop.flush();
        await shop.shutdown();
        const graph = (await (await fetch(new URL("/api/topology", d.url))).json()) as { registry: { kind: string }; nodes: { id: string; rpcServices: string[]; registered?: unknown[] }[] };
        expect(graph.registry).toEqual({ kind: "memory" });
        const payment = graph.nodes.find((n) => n.id === "service:payment");
        expect(payment?.rpcServices).toEqual(["shop.v1.PaymentService"]);
        expect(payment?.registered).toEqual([{ service: "shop.v1.PaymentService", instanceId: "payment-a", endpoints: ["grpc://10.0.0.5:50051"] }]);
        expect(graph.nodes.find((n) => n.id === "service:inventory")?.registered).toEqual([]);
      } finally {
        await registry.close();
      }
    });

    it("sends an update event when spans arrive", async () => {
      const d = await start({ liveIntervalMs: 50 });
      const controller = new AbortController();
      const res = await fetch(new URL("/api/events", d.url), { signal: controller.signal });
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = decoder.decode((await reader.read()).value);
      expect(text).toMatch(/event: update\ndata: \{"version":0/);
      await post(d, "/v1/traces", JSON.stringify(oneSpan("b7ad6b7169203331")));
      while (!/"spansReceived":1/.test(text)) text += decoder.decode((await reader.read()).value);
      controller.abort();
    });

    it("answers 503 past maxLiveClients", async () => {
      const d = await start({ maxLiveClients: 1 });
      const controller = new AbortController();
      const first = await fetch(new URL("/api/events", d.url), { signal: controller.signal });
      expect(first.status).toBe(200);
      expect((await fetch(new URL("/api/events", d.url))).status).toBe(503);
      controller.abort();
    });
  });
});
