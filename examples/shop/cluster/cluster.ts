/**
 * `npm run shop:cluster`: the shop as separate processes (docs/shop-cluster.md).
 * Starts N inventory instances sharing their stock in Redis (under a unique
 * key prefix), payment, cart, order and the HTTP gateway, each its own OS
 * process registered in the registry (NATS KV) and calling the others over
 * the native transport. Flags:
 *   --registry URL              default nats://127.0.0.1:4222
 *   --store URL                 inventory stock, default redis://127.0.0.1:6379
 *   --inventory-instances N     default 2
 *   --payment-failure-rate R    share of charges that fail, 0–1 (default 0)
 *   --http-port N               gateway HTTP port (default 8080)
 *   --grpc-port N               gateway gRPC port (default: none)
 *   --insecure                  services call each other in cleartext, without identities or policy
 * By default the launcher makes a throw-away CA and one certificate per role
 * (URI SAN spiffe://shop.local/<role>) in a private temporary directory: the
 * services call each other over mTLS and each enforces which service may call
 * which method (cluster-security.ts). The directory is removed on exit.
 * Ctrl-C stops every process gracefully (a second Ctrl-C kills them).
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { spawnShopService, type ShopProcess } from "./spawn-shop-service.js";
import { issueClusterCertificates } from "./cluster-security.js";
import { SHOP_ROLES, type ShopRole } from "./start-shop-service.js";
import { STATUS_PREFIX } from "./status-line.js";

const usage =
  "usage: npm run shop:cluster -- [--registry URL] [--store redis://host:port] [--inventory-instances N] [--payment-failure-rate R] [--http-port N] [--grpc-port N] [--insecure]";

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        registry: { type: "string", default: "nats://127.0.0.1:4222" },
        store: { type: "string", default: "redis://127.0.0.1:6379" },
        "inventory-instances": { type: "string", default: "2" },
        "payment-failure-rate": { type: "string", default: "0" },
        "http-port": { type: "string", default: "8080" },
        "grpc-port": { type: "string" },
        insecure: { type: "boolean", default: false },
      },
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();

const instances = Number(values["inventory-instances"]);
if (!Number.isInteger(instances) || instances < 1 || instances > 16) fail(`--inventory-instances must be an integer from 1 to 16, got "${values["inventory-instances"]}"`);
const storePrefix = `ferry-shop-cluster-${randomBytes(4).toString("hex")}`;
const common = ["--registry", values.registry];
const certificates = values.insecure ? undefined : issueClusterCertificates(SHOP_ROLES);
const plan: Array<{ name: string; role: ShopRole; args: string[] }> = [
  ...Array.from({ length: instances }, (_, i) => ({
    name: `inventory-${i + 1}`,
    role: "inventory" as const,
    args: [...common, "--store", values.store, "--store-prefix", storePrefix],
  })),
  { name: "payment", role: "payment", args: [...common, "--payment-failure-rate", values["payment-failure-rate"]] },
  { name: "cart", role: "cart", args: common },
  { name: "order", role: "order", args: common },
  { name: "gateway", role: "gateway", args: [...common, "--http-port", values["http-port"], ...(values["grpc-port"] ? ["--grpc-port", values["grpc-port"]] : [])] },
];

for (const p of plan) p.args.push(...(certificates?.args(p.role) ?? []));
const width = Math.max(...plan.map((p) => p.name.length));
let running: Array<{ name: string; process: ShopProcess }> = [];
let stopping = false;
console.log(`starting ${plan.length} processes (registry ${values.registry}, stock in ${values.store} under ${storePrefix}:*, ${certificates ? `mTLS with certificates in ${certificates.dir}` : "cleartext (--insecure)"})…`);
const results = await Promise.allSettled(
  plan.map(async (p) => {
    const process_ = await spawnShopService({
      role: p.role,
      args: p.args,
      ownProcessGroup: true,
      onLine: (line) => {
        if (!line.startsWith(`${STATUS_PREFIX}{"event":"ready"`)) console.log(`${p.name.padEnd(width)} | ${line}`);
      },
    });
    void process_.exited.then((how) => {
      if (!stopping) console.log(`${p.name} exited (${String(how)}); the other processes keep running`);
    });
    return { name: p.name, process: process_ };
  }),
);
running = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
const failed = results.find((r) => r.status === "rejected");
if (failed !== undefined) {
  console.error(`cannot start the cluster: ${(failed.reason as Error).message}`);
  await stopAll();
  process.exit(1);
}

const gateway = running.find((r) => r.process.role === "gateway")!.process.ready;
const api = gateway.httpUrl!;
console.log(`
Ferry shop cluster is running: ${running.length} processes, registered in ${values.registry}
${running.map((r) => `  ${r.name.padEnd(width)}  pid ${String(r.process.ready.pid).padEnd(7)} ${r.process.ready.nativeUrl ?? r.process.ready.httpUrl}`).join("\n")}
  HTTP  ${api}${gateway.grpcUrl ? `\n  gRPC  ${gateway.grpcUrl}` : ""}
Try:
  curl ${api}/v1/products
  curl -X POST ${api}/v1/carts/ann/items -H 'content-type: application/json' -d '{"sku":"KB-001","quantity":2}'
  curl -X POST ${api}/v1/carts/ann/checkout
Failover: kill -9 <an inventory pid>; requests keep succeeding on the other instance.
Ctrl-C stops everything.`);

async function stopAll(): Promise<void> {
  stopping = true;
  await Promise.all(running.map((r) => r.process.stop(10_000)));
  certificates?.remove();
  await deleteStock();
}

/** Removes this run's stock keys from Redis (they were created under a unique prefix). */
async function deleteStock(): Promise<void> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(values.store, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`${storePrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } catch (err) {
    console.error(`could not remove the stock keys ${storePrefix}:* from Redis: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

// A terminal's Ctrl-C reaches every process of its group, and npm forwards it too: signals
// within a second of the first count as the same Ctrl-C.
let firstSignalMs = 0;
const onSignal = () => {
  if (stopping && Date.now() - firstSignalMs < 1_000) return;
  firstSignalMs = Date.now();
  if (stopping) {
    for (const r of running) r.process.child.kill("SIGKILL");
    process.exit(130);
  }
  console.log("stopping every process: deregistering, finishing in-flight calls…");
  void stopAll().then(() => process.exit(0));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
