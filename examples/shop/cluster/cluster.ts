/**
 * `npm run shop:cluster`: the whole shop as separate processes, started from
 * one topology, examples/shop/topology/processes.yaml (docs/shop-cluster.md,
 * docs/deployment.md): two inventory processes, payment, cart, order and the
 * gateway (the HTTP API, analytics and notifications), each registered in
 * NATS KV and calling the others over the native transport; events through
 * the outbox and NATS JetStream; state in one PostgreSQL database (schema
 * shop_cluster, kept between runs like the broker's streams and consumer
 * groups, so a restarted cluster carries on where it stopped). Flags:
 *   --registry URL              default nats://127.0.0.1:4222
 *   --broker URL                default nats://127.0.0.1:4222
 *   --store URL                 default postgres://postgres@127.0.0.1:5432/test?schema=shop_cluster
 *   --inventory-instances N     default 2
 *   --payment-failure-rate R    share of charges that fail, 0–1 (default 0)
 *   --http-port N               gateway HTTP port (default 8080)
 *   --insecure                  services call each other in cleartext, without identities or policy
 * By default the launcher makes a throw-away CA and one certificate per group
 * (URI SAN spiffe://shop.local/<group>) in a private temporary directory and
 * turns on the topology's mTLS (security.tls) with the cluster's policy
 * (cluster-security.ts): which group may call which method. The directory is
 * removed on exit. Ctrl-C stops every process gracefully (a second Ctrl-C kills them).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadTopology, spawnGroup, type GroupProcess, type TopologyConfig } from "../../../src/topology/index.js";
import { clusterPolicy, issueClusterCertificates, SHOP_TRUST_DOMAIN, type ClusterCertificates } from "./cluster-security.js";
import type { ShopRole } from "./start-shop-service.js";

const TOPOLOGY = fileURLToPath(new URL("../topology/processes.yaml", import.meta.url));
const CLI = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const usage =
  "usage: npm run shop:cluster -- [--registry URL] [--broker URL] [--store postgres://…] [--inventory-instances N] [--payment-failure-rate R] [--http-port N] [--insecure]";

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        registry: { type: "string", default: "nats://127.0.0.1:4222" },
        broker: { type: "string", default: "nats://127.0.0.1:4222" },
        store: { type: "string", default: "postgres://postgres@127.0.0.1:5432/test?schema=shop_cluster" },
        "inventory-instances": { type: "string", default: "2" },
        "payment-failure-rate": { type: "string", default: "0" },
        "http-port": { type: "string", default: "8080" },
        insecure: { type: "boolean", default: false },
      },
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();

const instances = Number(values["inventory-instances"]);
if (!Number.isInteger(instances) || instances < 1 || instances > 16) fail(`--inventory-instances must be an integer from 1 to 16, got "${values["inventory-instances"]}"`);
const env = { SHOP_REGISTRY: values.registry, SHOP_BROKER: values.broker, SHOP_STORE: values.store, SHOP_HTTP_PORT: values["http-port"], SHOP_PAYMENT_FAILURE_RATE: values["payment-failure-rate"] };
const config = await loadTopology(TOPOLOGY, { env: { ...process.env, ...env } }).catch((err: Error) => fail(err.message));
config.groups.inventory!.replicas = instances;
const dir = mkdtempSync(join(tmpdir(), "ferry-shop-cluster-"));
const certificates = values.insecure ? undefined : issueClusterCertificates(Object.keys(config.groups) as ShopRole[]);
if (certificates !== undefined) secure(config, certificates);
const configFile = join(dir, "shop.json");
writeFileSync(configFile, JSON.stringify(config, null, 2));

/** mTLS between the groups with the cluster's policy; the HTTP API's own services (analytics, notifications) stay public. */
function secure(c: TopologyConfig, certs: ClusterCertificates): void {
  for (const [name, g] of Object.entries(c.groups)) g.tls = { certFile: certs.files(name as ShopRole).cert, keyFile: certs.files(name as ShopRole).key };
  const gateway = certs.files("gateway");
  const publicApi = { name: [{ service: "shop.v1.AnalyticsService" }, { service: "shop.v1.NotificationService" }], public: true };
  c.security = { tls: { caFile: gateway.ca, certFile: gateway.cert, keyFile: gateway.key, spiffeTrustDomain: SHOP_TRUST_DOMAIN }, policy: { rules: [...clusterPolicy.rules, publicApi] } };
}

const plan = Object.entries(config.groups).flatMap(([group, g]) => Array.from({ length: g.replicas ?? 1 }, (_, i) => ({ group, name: (g.replicas ?? 1) > 1 ? `${group}-${i + 1}` : group })));
const width = Math.max(...plan.map((p) => p.name.length));
let running: Array<{ name: string; process: GroupProcess }> = [];
let stopping = false;
console.log(`starting ${plan.length} processes of ${TOPOLOGY} (registry ${values.registry}, store ${values.store}${certificates ? ", mTLS" : ", cleartext"})…`);
const results = await Promise.allSettled(
  plan.map(async (p) => {
    const proc = await spawnGroup({ configFile, group: p.group, command: [process.execPath, "--import", "tsx", CLI], detached: true, onLine: (line) => line.startsWith("ferry-run ") || console.log(`${p.name.padEnd(width)} | ${line}`) });
    void proc.exited.then((how) => stopping || console.log(`${p.name} exited (${String(how)}); the other processes keep running`));
    return { name: p.name, process: proc };
  }),
);
running = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
if (failed !== undefined) {
  console.error(`cannot start the cluster: ${(failed.reason as Error).message}`);
  await stopAll();
  process.exit(1);
}

const api = running.find((r) => r.process.group === "gateway")!.process.ready.httpUrl!;
console.log(`
Ferry shop cluster is running: ${running.length} processes from one topology${certificates ? ", mTLS between them" : ""}
${running.map((r) => `  ${r.name.padEnd(width)}  pid ${String(r.process.ready.pid).padEnd(7)} ${r.process.ready.addresses.map((a) => a.url).join(" ")}`).join("\n")}
  HTTP  ${api}
Try:
  curl ${api}/v1/products
  curl -X POST ${api}/v1/carts/ann/items -H 'content-type: application/json' -d '{"sku":"KB-001","quantity":2}'
  curl -X POST ${api}/v1/carts/ann/checkout
  curl ${api}/v1/analytics/top-products
  curl ${api}/v1/users/ann/notifications
Failover: kill -9 <an inventory pid>; requests keep succeeding on the other instance.
Ctrl-C stops everything.`);

async function stopAll(): Promise<void> {
  stopping = true;
  await Promise.all(running.map((r) => r.process.stop(15_000)));
  certificates?.remove();
  rmSync(dir, { recursive: true, force: true });
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
