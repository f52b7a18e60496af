/**
 * `npm start`: the shop on embedded defaults. Flags:
 *   --grpc-port N             gRPC port (default 50051)
 *   --http-port N             HTTP JSON API port (default 8080)
 *   --host H                  interface to bind (default 127.0.0.1)
 *   --payment-failure-rate R  share of payments that fail, 0–1 (default 0)
 *   --broker URL              events broker: memory: (default), nats://127.0.0.1:4222,
 *                             amqp://guest:guest@127.0.0.1:5672 or redis://127.0.0.1:6379
 *   --store URL               where the services keep their state; checkout is a saga,
 *                             events go through the transactional outbox: pglite: (default,
 *                             in memory), pglite://DIR, postgres://user@127.0.0.1:5432/db
 *   --transport T             how services call each other: inproc (default) or native
 *                             (Ferry's native protocol on a loopback port)
 *   --metrics-port N          Prometheus /metrics port (default 9464, 0 picks a free one)
 *   --dashboard-port N        the Ferry dashboard on 127.0.0.1 (default 9400, 0 turns it off),
 *                             fed in-process with the shop's spans and metrics; a port in
 *                             use is reported and the shop runs without it
 *   --insecure                no authentication: every method open to every caller
 *   --auth-jwks URL --auth-issuer ISS --auth-audience AUD
 *                             also trust tokens of an external identity provider
 *   --cors-origin ORIGIN      allow browser calls from ORIGIN (repeatable)
 *   --rate-limit N            requests per second per principal or client IP at the HTTP API
 * Secure by default: a development identity provider issues tokens
 * (POST /v1/auth/token, keys at /.well-known/jwks.json); products are
 * public, carts, checkout, orders and notifications need the user's token.
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, traces and metrics are also exported
 * over OTLP/HTTP (see docs/observability.md for every OTEL_* variable).
 */
import { parseArgs } from "node:util";
import { createRegistry } from "@bufbuild/protobuf";
import { startDashboard } from "../../src/dashboard/index.js";
import { redactSecrets, startObservability } from "../../src/observability/index.js";
import { file_shop_v1_events } from "./gen/shop/v1/events_pb.js";
import { startShop } from "./shop.js";

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function portFlag(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`--${flag} must be a port number (0–65535), got "${value}"`);
  return n;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        "grpc-port": { type: "string" },
        "http-port": { type: "string" },
        host: { type: "string" },
        "payment-failure-rate": { type: "string" },
        transport: { type: "string" },
        broker: { type: "string" },
        store: { type: "string" },
        "metrics-port": { type: "string" },
        "dashboard-port": { type: "string" },
        insecure: { type: "boolean" },
        "auth-jwks": { type: "string" },
        "auth-issuer": { type: "string" },
        "auth-audience": { type: "string" },
        "cors-origin": { type: "string", multiple: true },
        "rate-limit": { type: "string" },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\nusage: npm start -- [--grpc-port N] [--http-port N] [--host H] [--payment-failure-rate R] [--transport inproc|native] [--broker URL] [--store URL] [--metrics-port N] [--dashboard-port N] [--insecure] [--auth-jwks URL --auth-issuer ISS --auth-audience AUD] [--cors-origin ORIGIN]... [--rate-limit N]`);
  }
})();

const grpcPort = portFlag(values["grpc-port"], "grpc-port", 50051);
const httpPort = portFlag(values["http-port"], "http-port", 8080);
const host = values.host ?? "127.0.0.1";
const rate = Number(values["payment-failure-rate"] ?? "0");
if (!(rate >= 0 && rate <= 1)) fail(`--payment-failure-rate must be between 0 and 1, got "${values["payment-failure-rate"]}"`);

const transport = values.transport ?? "inproc";
if (transport !== "inproc" && transport !== "native") fail(`--transport must be inproc or native, got "${transport}"`);

const externalFlags = [values["auth-jwks"], values["auth-issuer"], values["auth-audience"]];
if (externalFlags.some((v) => v !== undefined) && externalFlags.some((v) => v === undefined)) fail("--auth-jwks, --auth-issuer and --auth-audience go together");
if (values.insecure === true && externalFlags.some((v) => v !== undefined)) fail("--insecure turns authentication off; drop it to trust an external identity provider");
const auth = values.insecure === true ? false : values["auth-jwks"] === undefined ? true : { external: { jwksUrl: values["auth-jwks"], issuer: values["auth-issuer"]!, audience: values["auth-audience"]! } };
const rateLimit = values["rate-limit"] === undefined ? undefined : Number(values["rate-limit"]);
if (rateLimit !== undefined && !(rateLimit > 0 && Number.isFinite(rateLimit))) fail(`--rate-limit must be a number of requests per second > 0, got "${values["rate-limit"]}"`);

const metricsPort = portFlag(values["metrics-port"], "metrics-port", 9464);
const dashboardPort = portFlag(values["dashboard-port"], "dashboard-port", 9400);
// The dashboard (loopback only), fed in-process by the shop's spans and metrics: docs/dashboard.md.
// It is a tool, not a service: when its port is taken (another shop, `ferry dashboard`) the shop runs without it.
let dashboardNote = "";
const dashboard = dashboardPort === 0 ? undefined : await startDashboard({ port: dashboardPort }).catch((err: Error) => {
  dashboardNote = `\n  dashboard not started: ${err.message} (choose another port with --dashboard-port, 0 turns it off)`;
  return undefined;
});
const feeds = dashboard === undefined ? {} : { spanProcessors: [dashboard.spanProcessor], metricReaders: [await dashboard.metricReader()] };
// Observability first, so every span and metric of the shop has somewhere to go.
const observability = await startObservability({ serviceName: "shop", metricsPort, metricsHost: host, ...feeds }).catch((err: NodeJS.ErrnoException) => {
  if (err.code === "EADDRINUSE") fail(`port ${metricsPort} is already in use: choose another with --metrics-port`);
  return fail(`cannot start observability: ${err.message}`);
});

const shop = await startShop({ host, grpcPort, httpPort, paymentFailureRate: rate, internalTransport: transport, broker: values.broker, store: values.store, waitForStore: false, auth, corsOrigins: values["cors-origin"], rateLimitPerSecond: rateLimit }).catch((err: NodeJS.ErrnoException) => {
  if (err.code === "EADDRINUSE") {
    const port = (err as { port?: number }).port;
    const flag = port === grpcPort ? "--grpc-port" : "--http-port";
    fail(`port ${port ?? "?"} is already in use: choose another with ${flag}`);
  }
  return fail(`cannot start the shop: ${err.message}`);
});
// The dashboard's broker actions (dead letters, re-drive, replay, payloads decoded as shop events) and API explorer.
await dashboard?.attach({ broker: shop.broker, explorer: { target: shop.grpcUrl }, messageTypes: createRegistry(file_shop_v1_events) });
// A token for the printed commands, so they work as printed; the first command shows how to get one.
const token = shop.identityProvider === undefined ? undefined : await shop.identityProvider.issueToken("ann");
const bearer = token === undefined ? "" : ` -H "authorization: Bearer ${token}"`;

const api = shop.httpUrl;
// Tracing is on for the dashboard too; say "exported over OTLP" only when an OTLP exporter is configured.
const otlpTraces = observability.tracing && (dashboard === undefined || [process.env.OTEL_EXPORTER_OTLP_ENDPOINT, process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, process.env.OTEL_TRACES_EXPORTER].some((v) => v !== undefined && v !== ""));
console.log(`Ferry shop is running
  gRPC  ${shop.grpcUrl}   services shop.v1.{Inventory,Payment,Cart,Order}Service
  HTTP  ${api}
  events on the ${shop.broker.kind} broker${values.broker ? ` at ${redactSecrets(values.broker)}` : " (embedded)"}
  state   in ${values.store ? redactSecrets(values.store) : "PGlite in memory (--store pglite://DIR keeps it)"}; checkout is a saga, events go through the outbox
  metrics ${observability.metricsUrl}${dashboard === undefined ? dashboardNote : `\n  dashboard ${dashboard.url}`}${otlpTraces ? `\n  traces  exported over OTLP to ${process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "the OTEL_* default"}` : ""}${shop.nativeUrl ? `\n  services call each other over ${shop.nativeUrl}` : ""}
${token === undefined ? "  auth    off (--insecure): every method is open to every caller" : `  auth    tokens from POST ${api}/v1/auth/token, keys at ${api}/.well-known/jwks.json${values["auth-jwks"] ? `; also trusted: ${values["auth-issuer"]}` : ""}`}
Try:${token === undefined ? "" : `
  curl -X POST ${api}/v1/auth/token -H 'content-type: application/json' -d '{"userId":"ann"}'`}
  curl ${api}/v1/products
  curl -X POST ${api}/v1/carts/ann/items${bearer} -H 'content-type: application/json' -d '{"sku":"KB-001","quantity":2}'
  curl -X POST ${api}/v1/carts/ann/checkout${bearer}${token === undefined ? "" : `
(the commands carry ann's token, valid 15 minutes; carts, checkout, orders and notifications need their user's token)`}
Ctrl-C stops it.`);

let stopping = false;
const stop = async () => {
  if (stopping) process.exit(130);
  stopping = true;
  console.log("shutting down: finishing in-flight calls…");
  await dashboard?.close(); // first: its API explorer holds a connection to the shop's gRPC port
  await shop.close(5000);
  await observability.shutdown(); // exports the last batch of spans and metrics
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

// The store opens while the shop already listens (calls wait for it); say when it is ready, or stop if it cannot open.
const opening = Date.now();
shop.ready.then(
  () => console.log(`store ready in ${((Date.now() - opening) / 1000).toFixed(1)} s: checkouts resumed, events relayed`),
  async (err: Error) => {
    console.error(`cannot open the store ${redactSecrets(values.store ?? "pglite:")}: ${err.message}`);
    await shop.close(0).catch(() => undefined);
    process.exit(1);
  },
);
