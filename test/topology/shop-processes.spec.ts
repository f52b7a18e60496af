/**
 * The shop's several-processes topology (examples/shop/topology/processes.yaml)
 * as real child processes (`ferry run CONFIG --group G`, six of them): the
 * whole shop, events and consumers included, across process boundaries. Its
 * registry bucket, event streams and database schema are this run's own.
 */
import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../examples/shop/gen/shop/v1/inventory_pb.js";
import { createRegistry } from "../../src/index.js";
import { loadTopology, spawnGroup, type GroupProcess } from "../../src/topology/index.js";
import { checkService } from "../support/services.js";

const CONFIG = "examples/shop/topology/processes.yaml";
const nats = await checkService("NATS", "127.0.0.1", 4222);
const redis = nats.skip ? nats : await checkService("Redis", "127.0.0.1", 6379);
const postgres = redis.skip ? redis : await checkService("PostgreSQL", "127.0.0.1", 5432);
const id = randomBytes(4).toString("hex");
const bucket = `ferry_topology_shop_${id}`;
const schema = `topology_shop_${id}`;
const env = {
  SHOP_REGISTRY: `nats://127.0.0.1:4222?bucket=${bucket}&bucketMaxAgeMs=60000`,
  SHOP_BROKER: `redis://127.0.0.1:6379?keyPrefix=ferry-topology-${id}:`,
  SHOP_STORE: `postgres://postgres@127.0.0.1:5432/test?schema=${schema}`,
  SHOP_HTTP_PORT: "0",
  FERRY_LOG_LEVEL: "warn",
};

async function json(url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe.skipIf(postgres.skip)("the shop as processes from one topology (NATS KV registry, Redis events, PostgreSQL)", () => {
  const running: GroupProcess[] = [];
  let api = "";

  beforeAll(async () => {
    const config = await loadTopology(CONFIG, { env });
    const plan = Object.entries(config.groups).flatMap(([group, g]) => Array.from({ length: g.replicas ?? 1 }, () => group));
    const results = await Promise.allSettled(
      plan.map((group) => spawnGroup({ configFile: CONFIG, group, env, command: [process.execPath, "--import", "tsx", "src/cli/main.ts"], readyTimeoutMs: 90_000 })),
    );
    for (const r of results) if (r.status === "fulfilled") running.push(r.value);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    api = running.find((p) => p.group === "gateway")!.ready.httpUrl!;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop(10_000)));
    const nc = await connect({ servers: "127.0.0.1:4222" });
    await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
    await nc.close();
    const { Redis } = await import("ioredis");
    const r = new Redis("redis://127.0.0.1:6379");
    const keys = await r.keys(`ferry-topology-${id}:*`);
    if (keys.length > 0) await r.del(...keys);
    await r.quit();
    const pg = await import("pg");
    const client = new pg.default.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/test" });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }, 60_000);

  it("runs six processes, each registered with its advertised native address", async () => {
    expect(running.map((p) => p.group).sort()).toEqual(["cart", "gateway", "inventory", "inventory", "order", "payment"]);
    const registry = await createRegistry(env.SHOP_REGISTRY);
    try {
      const instances = await registry.resolve(InventoryService.typeName);
      expect(instances.map((i) => i.endpoints[0]!.url).sort()).toEqual(running.filter((p) => p.group === "inventory").map((p) => p.ready.addresses[0]!.url).sort());
      for (const i of instances) expect(i.metadata).toMatchObject({ topology: "shop", group: "inventory" });
    } finally {
      await registry.close();
    }
  });

  it("serves the whole shop: checkout across processes, then its event reaches analytics and notifications", async () => {
    expect((await json(`${api}/v1/carts/zoe/items`, { sku: "LP-009", quantity: 3 })).status).toBe(200);
    const order = await json(`${api}/v1/carts/zoe/checkout`, {});
    expect(order.status).toBe(200);
    expect(order.body.status).toBe("ORDER_STATUS_PLACED");
    // shop.order.placed goes order (outbox, relay) -> Redis -> gateway (analytics, notification).
    let top: { status: number; body: any } = { status: 0, body: {} };
    let notes: { status: number; body: any } = { status: 0, body: {} };
    for (let i = 0; i < 100; i++) {
      top = await json(`${api}/v1/analytics/top-products`);
      notes = await json(`${api}/v1/users/zoe/notifications`);
      if (top.body.ordersCounted === 1 && notes.body.notifications?.length === 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(top.status).toBe(200);
    expect(top.body.products).toEqual([expect.objectContaining({ sku: "LP-009", unitsSold: 3 })]);
    expect(notes.body.notifications).toEqual([expect.objectContaining({ kind: "order_placed", orderId: order.body.orderId })]);
    // Both inventory instances share the stock in PostgreSQL.
    expect((await json(`${api}/v1/products/LP-009`)).body.stock).toBe(27);
  }, 60_000);

  it("loses no HTTP read when one inventory process is killed (SIGKILL) under load", async () => {
    const [victim, survivor] = running.filter((p) => p.group === "inventory");
    const skus = ["KB-001", "MS-002", "HS-004", "WC-005"];
    let sent = 0;
    const failures: string[] = [];
    const until = Date.now() + 3_000;
    const client = async (n: number) => {
      // Bounded: at most 500 requests per client, for about 3 s.
      for (let i = 0; i < 500 && Date.now() < until; i++) {
        sent++;
        const res = await fetch(`${api}/v1/products/${skus[(n + i) % skus.length]}`).catch((err: Error) => err);
        if (res instanceof Error || res.status !== 200) failures.push(res instanceof Error ? res.message : `${res.status} ${await res.text()}`);
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(client));
    await new Promise((r) => setTimeout(r, 1_000));
    await victim!.kill();
    await load;
    console.log(`failover: ${sent} GET /v1/products/{sku} from 4 clients, one of two inventory processes SIGKILLed after 1 s: ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(0);
    expect(survivor!.child.exitCode).toBeNull();
  }, 30_000);

  it("a process stops gracefully on SIGTERM: deregisters, drains, exits 0", async () => {
    const payment = running.find((p) => p.group === "payment")!;
    await payment.stop(15_000);
    expect(await payment.exited).toBe(0);
    const registry = await createRegistry(env.SHOP_REGISTRY);
    try {
      expect(await registry.resolve("shop.v1.PaymentService")).toEqual([]);
    } finally {
      await registry.close();
    }
  }, 30_000);
});
