/**
 * One shop service in its own OS process (the separate-process shop, see
 * docs/shop-cluster.md):
 *
 *   node --import tsx examples/shop/cluster/service-process.ts --service inventory|payment|cart|order|gateway
 *     [--registry nats://127.0.0.1:4222]   where services register and find each other
 *     [--ttl-ms 3000]                       registration TTL (heartbeat every third)
 *     [--payment-failure-rate R]            payment: share of charges that fail, 0–1
 *     [--http-port N]                       gateway: HTTP JSON API port (default 8080, 0 picks one)
 *     [--grpc-port N]                       also serve gRPC on this port (gateway: forwards to the services)
 *     [--store redis://127.0.0.1:6379]      inventory: shared stock in Redis (default: in memory)
 *     [--store-prefix P]                    inventory: Redis key prefix (default ferry-shop)
 *     [--metrics-port N]                    Prometheus /metrics port (default 0: a free one, in the ready line)
 *     [--tls-ca F --tls-cert F --tls-key F] mTLS between services (PEM files: cluster CA, this process's
 *                                           certificate with its spiffe://shop.local/<role> URI SAN, its key);
 *                                           without them, cleartext and no authorization policy
 * Each process starts observability as service.name shop-<role> (OTEL_SERVICE_NAME
 * overrides it) and exports traces when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 *
 * Writes `ferry-shop {"event":"ready",…}` once serving and registered, a
 * `stats` line with the calls served on SIGUSR2, and deregisters, drains and
 * exits on SIGTERM or SIGINT (a second signal exits at once), or when the
 * parent that spawned it with an IPC channel goes away.
 */
import { parseArgs } from "node:util";
import { pino } from "pino";
import { ferryLogOptions, startObservability, type Observability } from "../../../src/observability/index.js";
import { readClusterTls } from "./cluster-security.js";
import { SHOP_ROLES, startShopService, type ShopRole, type ShopService } from "./start-shop-service.js";
import { formatStatus } from "./status-line.js";

const usage =
  "usage: service-process.ts --service inventory|payment|cart|order|gateway [--registry URL] [--ttl-ms N] [--payment-failure-rate R] [--http-port N] [--grpc-port N] [--store redis://host:port] [--store-prefix P] [--metrics-port N] [--tls-ca F --tls-cert F --tls-key F]";

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

function intFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        service: { type: "string" },
        registry: { type: "string" },
        "ttl-ms": { type: "string" },
        "payment-failure-rate": { type: "string" },
        "http-port": { type: "string" },
        "grpc-port": { type: "string" },
        store: { type: "string" },
        "store-prefix": { type: "string" },
        "metrics-port": { type: "string" },
        "tls-ca": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
      },
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();

const role = values.service as ShopRole | undefined;
if (role === undefined || !SHOP_ROLES.includes(role)) fail(`--service must be one of ${SHOP_ROLES.join(", ")}, got "${values.service ?? ""}"`);
const rate = Number(values["payment-failure-rate"] ?? "0");
if (!(rate >= 0 && rate <= 1)) fail(`--payment-failure-rate must be between 0 and 1, got "${values["payment-failure-rate"]}"`);

const tlsFlags = [values["tls-ca"], values["tls-cert"], values["tls-key"]];
if (tlsFlags.some((f) => f !== undefined) && tlsFlags.some((f) => f === undefined)) fail("--tls-ca, --tls-cert and --tls-key go together");
const tls = (() => {
  try {
    return values["tls-ca"] === undefined ? undefined : readClusterTls({ ca: values["tls-ca"], cert: values["tls-cert"]!, key: values["tls-key"]! });
  } catch (err) {
    return fail(`cannot read the TLS files: ${(err as Error).message}`);
  }
})();

const logger = pino({ ...ferryLogOptions(), name: `shop-${role}`, level: process.env.FERRY_LOG_LEVEL ?? "info" });
let observability: Observability | undefined;
let service: ShopService | undefined;
let stopping = false;

// Handlers go in before anything is announced: a parent may signal as soon as it reads the ready line.
const stats = (s: ShopService) => formatStatus({ event: "stats", role, instanceId: s.instanceId, ...s.counter.snapshot() });
const stop = async (): Promise<void> => {
  if (stopping) process.exit(130);
  stopping = true;
  if (service === undefined) return; // still starting: stops once started
  logger.info({ instanceId: service.instanceId }, "shutting down: deregistering, then finishing in-flight calls");
  await service.close(5_000);
  await observability?.shutdown(); // exports the last spans
  console.log(stats(service));
  console.log(formatStatus({ event: "stopped", role, instanceId: service.instanceId }));
  process.exit(0);
};
process.on("SIGUSR2", () => {
  if (service !== undefined) console.log(stats(service));
});
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
// Started by the launcher or a test (spawn-shop-service.ts): stop when the parent goes away.
if (process.send !== undefined) process.on("disconnect", () => void stop());

try {
  observability = await startObservability({ serviceName: `shop-${role}`, metricsPort: intFlag(values["metrics-port"], "metrics-port", 0, 65535) ?? 0 });
  service = await startShopService({
    role,
    registryUrl: values.registry,
    ttlMs: intFlag(values["ttl-ms"], "ttl-ms", 100, 86_400_000),
    paymentFailureRate: rate,
    httpPort: intFlag(values["http-port"], "http-port", 0, 65535),
    grpcPort: intFlag(values["grpc-port"], "grpc-port", 0, 65535),
    storeUrl: values.store,
    storePrefix: values["store-prefix"],
    tls,
    logger,
  });
} catch (err) {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e.code === "EADDRINUSE") fail(`port ${e.port ?? "?"} is already in use`);
  console.error(`cannot start the ${role} service: ${e.message}`);
  process.exit(1);
}

if (stopping) {
  stopping = false;
  await stop();
} else {
  console.log(
    formatStatus({ event: "ready", role, instanceId: service.instanceId, pid: process.pid, nativeUrl: service.nativeUrl, grpcUrl: service.grpcUrl, httpUrl: service.httpUrl, metricsUrl: observability?.metricsUrl }),
  );
}
