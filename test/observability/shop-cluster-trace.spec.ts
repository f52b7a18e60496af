/**
 * The separate-process shop: each process starts observability with its own
 * service.name (`shop-<role>`), exports over OTLP/HTTP to a receiver in the
 * test, and a checkout through the gateway process is one trace across the
 * processes (W3C trace context in native-protocol metadata).
 */
import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnShopService, type ShopProcess } from "../../examples/shop/cluster/spawn-shop-service.js";
import type { ShopRole } from "../../examples/shop/cluster/start-shop-service.js";
import { checkService } from "../support/services.js";
import { eventually } from "./otel-harness.js";
import { decodeTraceRequest, startOtlpReceiver } from "./otlp-receiver.js";

const nats = await checkService("NATS", "127.0.0.1", 4222);
const bucket = `ferry_shop_otel_${randomBytes(4).toString("hex")}`;
const registryUrl = `nats://127.0.0.1:4222?bucket=${bucket}&bucketMaxAgeMs=10000`;

function post(url: string, body?: unknown): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

describe.skipIf(nats.skip)("the separate-process shop with observability", () => {
  const started: ShopProcess[] = [];
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_METRICS_EXPORTER: "prometheus", FERRY_LOG_LEVEL: "silent" };
    const roles: ShopRole[] = ["inventory", "payment", "cart", "order", "gateway"];
    const results = await Promise.allSettled(
      roles.map((role) => spawnShopService({ role, args: ["--registry", registryUrl, "--ttl-ms", "3000", ...(role === "gateway" ? ["--http-port", "0"] : [])], env, readyTimeoutMs: 60_000 })),
    );
    for (const r of results) if (r.status === "fulfilled") started.push(r.value);
    const failed = results.find((r) => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }, 90_000);

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop(3_000)));
    await receiver?.close();
    const nc = await connect({ servers: "127.0.0.1:4222" });
    await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
    await nc.close();
  }, 30_000);

  it("serves /metrics per process and exports one checkout trace with one service.name per process", async () => {
    for (const p of started) expect(p.ready.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new Set(started.map((p) => p.ready.metricsUrl)).size).toBe(started.length);
    const api = started.find((p) => p.role === "gateway")!.ready.httpUrl!;
    const user = `otel-${randomBytes(3).toString("hex")}`;
    // The gateway's channels find the services through the registry: retry until they are known.
    await eventually(async () => expect((await post(`${api}/v1/carts/${user}/items`, { sku: "KB-001", quantity: 1 })).status).toBe(200), 15_000);
    const checkout = await post(`${api}/v1/carts/${user}/checkout`);
    expect(checkout.status, await checkout.clone().text()).toBe(200);
    await eventually(() => {
      const spans = receiver.requests.filter((r) => r.path === "/v1/traces").flatMap((r) => decodeTraceRequest(r.body));
      const root = spans.find((s) => s.name === "POST /v1/carts/{user_id}/checkout");
      expect(root?.serviceName).toBe("shop-gateway");
      const trace = spans.filter((s) => s.traceId === root!.traceId);
      const serviceOf = (name: string, kind: number) => trace.find((s) => s.name === name && s.kind === kind)?.serviceName;
      expect(serviceOf("shop.v1.OrderService/Checkout", 2)).toBe("shop-order");
      expect(serviceOf("shop.v1.CartService/GetCart", 2)).toBe("shop-cart");
      expect(serviceOf("shop.v1.PaymentService/Charge", 3)).toBe("shop-order");
      expect(serviceOf("shop.v1.PaymentService/Charge", 2)).toBe("shop-payment");
      const ids = new Set(trace.map((s) => s.spanId));
      for (const s of trace) if (s !== root) expect(ids.has(s.parentSpanId)).toBe(true);
    }, 15_000);
    const scrape = await (await fetch(started.find((p) => p.role === "gateway")!.ready.metricsUrl!)).text();
    expect(scrape).toMatch(/^ferry_channel_subchannels\{[^}]*ferry_target="registry:\/\/\/shop\.v1\.OrderService\?transport=native"[^}]*ferry_connectivity_state="READY"[^}]*\} 1$/m);
    expect(scrape).toMatch(/^http_server_request_duration_count\{[^}]*http_route="\/v1\/carts\/\{user_id\}\/checkout"[^}]*\} 1$/m);
  });
});
