import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAYMENT_TIMEOUT_MS, PAYMENT_UNAVAILABLE_MESSAGE } from "../examples/shop/cluster/shop-service-config.js";
import { spawnShopService, type ShopProcess } from "../examples/shop/cluster/spawn-shop-service.js";
import { SHOP_ROLES, type ShopRole } from "../examples/shop/cluster/start-shop-service.js";
import { checkService } from "./support/services.js";
import { closeClient, Code, createClient, FerryError } from "../src/index.js";
import { checkServerSpiffeId } from "../src/auth/index.js";
import { createThrowawayCa } from "../src/transport/grpc/index.js";
import { InventoryService } from "../examples/shop/gen/shop/v1/inventory_pb.js";
import { issueClusterCertificates, readClusterTls, spiffeIdOf } from "../examples/shop/cluster/cluster-security.js";

const nats = await checkService("NATS", "127.0.0.1", 4222);
const redis = nats.skip ? nats : await checkService("Redis", "127.0.0.1", 6379);
const id = randomBytes(4).toString("hex");
const bucket = `ferry_shop_${id}`;
const registryUrl = `nats://127.0.0.1:4222?bucket=${bucket}&bucketMaxAgeMs=10000`;
const storePrefix = `ferry-shop-test-${id}`;
const GET_PRODUCT = "/shop.v1.InventoryService/GetProduct";
const CHARGE = "/shop.v1.PaymentService/Charge";

interface HttpResult {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

async function http(url: string, method = "GET", body?: unknown): Promise<HttpResult> {
  const t0 = performance.now();
  const res = await fetch(url, { method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body: json, ms: performance.now() - t0 };
}

describe.skipIf(nats.skip || redis.skip)("the shop as separate processes (NATS registry, native transport, Redis stock)", () => {
  const started: ShopProcess[] = [];
  const byRole = (role: ShopRole) => started.filter((p) => p.role === role);
  let api = "";

  const certificates = issueClusterCertificates(SHOP_ROLES);

  beforeAll(async () => {
    const spawn = (role: ShopRole, ...args: string[]) =>
      spawnShopService({ role, args: ["--registry", registryUrl, "--ttl-ms", "3000", ...certificates.args(role), ...args], readyTimeoutMs: 60_000 });
    const store = ["--store", "redis://127.0.0.1:6379", "--store-prefix", storePrefix];
    const results = await Promise.allSettled([
      spawn("inventory", ...store),
      spawn("inventory", ...store),
      spawn("payment", "--payment-failure-rate", "1"),
      spawn("cart"),
      spawn("order"),
      spawn("gateway", "--http-port", "0"),
    ]);
    for (const r of results) if (r.status === "fulfilled") started.push(r.value);
    const failed = results.find((r) => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    api = byRole("gateway")[0]!.ready.httpUrl!;
  }, 90_000);

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop(3_000)));
    certificates.remove();
    const nc = await connect({ servers: "127.0.0.1:4222" });
    await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
    await nc.close();
    const { Redis } = await import("ioredis");
    const r = new Redis("redis://127.0.0.1:6379");
    const keys = await r.keys(`${storePrefix}:*`);
    if (keys.length > 0) await r.del(...keys);
    await r.quit();
  }, 30_000);

  it("services call each other over mTLS; a caller without a certificate, or with the wrong identity, is refused", async () => {
    const inventory = byRole("inventory")[0]!.ready.nativeUrl!;
    expect(inventory).toMatch(/^natives:\/\/127\.0\.0\.1:/);
    const { ca } = readClusterTls(certificates.files("cart"));
    const as = (role: ShopRole | undefined, foreignCa = false) => {
      const own = role === undefined ? {} : readClusterTls(certificates.files(role));
      const forged = foreignCa ? createThrowawayCa().issue({ altNames: [spiffeIdOf("cart")] }) : {};
      const client = createClient(InventoryService, inventory, { tls: { ...own, ...forged, ca, checkServerIdentity: checkServerSpiffeId([spiffeIdOf("inventory")]) } });
      clients.push(client);
      return client;
    };
    const clients: AsyncDisposable[] = [];
    const outcome = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => `${Code[FerryError.from(e).code]}: ${FerryError.from(e).rawMessage}`);
    const reserve = { sku: "KB-001", quantity: 0, reservationId: `mtls-${id}` };
    const results = {
      noCertificate: await outcome(as(undefined).reserve(reserve)),
      foreignCa: await outcome(as("cart", true).reserve(reserve)),
      payment: await outcome(as("payment").reserve(reserve)),
      gateway: await outcome(as("gateway").reserve(reserve)),
      gatewayRead: await outcome(as("gateway").getProduct({ sku: "KB-001" })),
    };
    console.log(`mTLS in the cluster: ${JSON.stringify(results)}`);
    expect(results.noCertificate).toMatch(/^UNAUTHENTICATED: .*needs credentials/);
    expect(results.foreignCa).toMatch(/^UNAUTHENTICATED: .*did not verify against this server's CA/);
    expect(results.payment).toBe("PERMISSION_DENIED: service spiffe://shop.local/payment may not call /shop.v1.InventoryService/Reserve");
    expect(results.gateway).toMatch(/^PERMISSION_DENIED: service spiffe:\/\/shop.local\/gateway may not call/);
    expect(results.gatewayRead).toBe("OK");
    // An instance registered as payment is not inventory: the client refuses it during the handshake.
    const impostor = createClient(InventoryService, byRole("payment")[0]!.ready.nativeUrl!, {
      tls: { ...readClusterTls(certificates.files("cart")), checkServerIdentity: checkServerSpiffeId([spiffeIdOf("inventory")]) },
    });
    expect(await outcome(impostor.getProduct({ sku: "KB-001" }, { timeoutMs: 5_000 }))).toMatch(/^UNAVAILABLE: .*server identity spiffe:\/\/shop.local\/payment is not spiffe:\/\/shop.local\/inventory/);
    await Promise.all([impostor, ...clients].map((c) => closeClient(c)));
  });

  it("balances calls across both inventory instances (round robin)", async () => {
    const inventories = byRole("inventory");
    const served = async () => (await Promise.all(inventories.map((p) => p.stats()))).map((s) => s.calls[GET_PRODUCT] ?? 0);
    // Warm up until the gateway's channel has both instances.
    for (let round = 0; round < 25 && (await served()).some((n) => n === 0); round++) {
      for (let i = 0; i < 4; i++) expect((await http(`${api}/v1/products/KB-001`)).status).toBe(200);
    }
    const before = await served();
    const calls = 200;
    for (let i = 0; i < calls; i++) expect((await http(`${api}/v1/products/KB-001`)).status).toBe(200);
    const after = await served();
    const split = after.map((n, i) => n - before[i]!);
    console.log(`balance: ${calls} GET /v1/products/KB-001 → inventory instances served ${split.join(" / ")}`);
    expect(split[0]! + split[1]!).toBe(calls);
    expect(Math.min(...split)).toBeGreaterThanOrEqual(calls * 0.4);
  });

  it("loses no HTTP request when one inventory instance is killed (SIGKILL) under load", async () => {
    const [victim, survivor] = byRole("inventory");
    const survivorBefore = (await survivor!.stats()).total;
    const paths = ["/v1/products/KB-001", "/v1/products", "/v1/products/MS-002"];
    const maxRequests = 3_000;
    const loadMs = 4_000;
    const stopAt = Date.now() + loadMs;
    let sent = 0;
    let afterKill = 0;
    let killed = false;
    const failures: string[] = [];
    const worker = async () => {
      while (sent < maxRequests && Date.now() < stopAt) {
        const path = paths[sent++ % paths.length]!;
        const wasKilled = killed;
        try {
          const res = await http(api + path);
          if (res.status !== 200) failures.push(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
        } catch (err) {
          failures.push(`${path}: ${(err as Error).message}`);
        }
        if (wasKilled) afterKill++;
      }
    };
    // Writes (AddItem → cart → inventory Reserve, not retried) sent after the kill: the dead
    // instance is still registered until its TTL ends, so these prove refused calls go elsewhere.
    const stockBefore = (await http(`${api}/v1/products/CB-010`)).body.stock as number;
    let writes = 0;
    const writer = async () => {
      while (writes < 20 && Date.now() < stopAt) {
        writes++;
        const res = await http(`${api}/v1/carts/failover-${id}/items`, "POST", { sku: "CB-010", quantity: 1 });
        if (res.status !== 200) failures.push(`AddItem: ${res.status} ${JSON.stringify(res.body)}`);
      }
    };
    const kill = (async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      await victim!.kill();
      killed = true;
      await writer();
    })();
    await Promise.all([kill, ...Array.from({ length: 8 }, worker)]);
    const survivorServed = (await survivor!.stats()).total - survivorBefore;
    console.log(
      `failover: ${sent} reads (8 in flight), ${afterKill} sent after the SIGKILL, ${writes} AddItem writes after it; ${failures.length} failed; the survivor served ${survivorServed} inventory calls`,
    );
    expect(failures.slice(0, 5)).toEqual([]);
    expect(afterKill).toBeGreaterThan(50);
    expect(writes).toBeGreaterThan(0);
    // Each write reserved exactly once: nothing lost, nothing reserved twice.
    expect((await http(`${api}/v1/products/CB-010`)).body.stock).toBe(stockBefore - writes);
  });

  it("opens the payment breaker: checkout fails fast with a clear message and the reserved stock is released", async () => {
    const sku = "LP-009";
    const stockBefore = (await http(`${api}/v1/products/${sku}`)).body.stock;
    const chargesBefore = (await byRole("payment")[0]!.stats()).calls[CHARGE] ?? 0;
    const results: HttpResult[] = [];
    for (let i = 0; i < 6; i++) {
      const user = `breaker-${id}-${i}`;
      expect((await http(`${api}/v1/carts/${user}/items`, "POST", { sku, quantity: 2 })).status).toBe(200);
      results.push(await http(`${api}/v1/carts/${user}/checkout`, "POST"));
    }
    const charges = ((await byRole("payment")[0]!.stats()).calls[CHARGE] ?? 0) - chargesBefore;
    const degraded = results.filter((r) => String(r.body.message).includes(PAYMENT_UNAVAILABLE_MESSAGE));
    console.log(
      `breaker: checkouts ${results.map((r) => `${r.status} in ${r.ms.toFixed(0)} ms${String(r.body.message).includes(PAYMENT_UNAVAILABLE_MESSAGE) ? " (degraded)" : ""}`).join(", ")}; ${charges} Charge calls reached payment`,
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(503));
    expect(results[0]!.body.message).toContain("payment provider unavailable");
    // Three failed attempts in a row open the breaker (checkout 1: two attempts; checkout 2: one, then rejected).
    expect(charges).toBe(3);
    expect(results.slice(1)).toEqual(degraded);
    for (const r of degraded) {
      expect(r.body).toMatchObject({ code: "unavailable" });
      expect(r.body.message).toContain("the reserved stock was released");
      expect(r.ms).toBeLessThan(PAYMENT_TIMEOUT_MS / 5);
    }
    expect((await http(`${api}/v1/products/${sku}`)).body.stock).toBe(stockBefore);
  });
});
