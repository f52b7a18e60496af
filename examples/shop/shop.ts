import { createClient, createInProcessTransport, createServer, type ClientTransport, type Logger, type Server } from "../../src/index.js";
import { clientTransportFromUrl } from "../../src/rpc/transport-registry.js";
import { randomUUID } from "node:crypto";
import { Code, FerryError } from "../../src/index.js";
import { createGateway, type Gateway } from "../../src/gateway/index.js";
import { addReflectionService } from "../../src/transport/grpc/index.js";
import { createBroker, type Broker } from "../../src/messaging/index.js";
import { getDefaultLogger } from "../../src/util/logger.js";
import { redactSecrets } from "../../src/observability/redaction.js";
import { deferredService } from "./deferred-service.js";
import { AnalyticsService } from "./gen/shop/v1/analytics_pb.js";
import { NotificationService } from "./gen/shop/v1/notification_pb.js";
import { CartService } from "./gen/shop/v1/cart_pb.js";
import { InventoryService } from "./gen/shop/v1/inventory_pb.js";
import { OrderService } from "./gen/shop/v1/order_pb.js";
import { PaymentService } from "./gen/shop/v1/payment_pb.js";
import { createShopConsistency, type ShopConsistency, type ShopImpls } from "./shop-consistency.js";
import { createShopAuth, ownOrdersOnly, type DevIdentityProvider, type ShopAuthOptions } from "./shop-auth.js";
import { createStockWatch } from "./stock-watch.js";
import { cartItemAdded, orderPlaced, paymentFailed } from "./events.js";

/** Every shop service, for gateways and tools. */
export const shopServices = [InventoryService, PaymentService, CartService, OrderService, AnalyticsService, NotificationService] as const;

/** Options of {@link startShop}. */
export interface ShopOptions {
  /** Interface both listeners bind. Default `"127.0.0.1"`. */
  host?: string;
  /** gRPC port; 0 picks a free one. Default 50051. */
  grpcPort?: number;
  /** HTTP JSON API port; 0 picks a free one. Default 8080. */
  httpPort?: number;
  /** Share of payments that fail, 0–1. Default 0. */
  paymentFailureRate?: number;
  /**
   * How the services call each other (and how the HTTP gateway calls them):
   * `"inproc"` (default, no sockets) or `"native"` (Ferry's native protocol
   * over a loopback TCP port, as separate processes would).
   */
  internalTransport?: "inproc" | "native";
  /**
   * The broker for the shop's events: `memory:` (default: an embedded broker
   * private to this shop), `nats://127.0.0.1:4222`, `amqp://guest:guest@127.0.0.1:5672`,
   * `redis://127.0.0.1:6379`.
   */
  broker?: string;
  /**
   * Where the services keep their state (stock, payments, carts, orders,
   * notifications, sales): `pglite:` (default: PGlite in memory, nothing to
   * install), `pglite://DIR` (persistent) or `postgres://…`. Checkout is a
   * saga (checkout-saga.ts), events go through the transactional outbox,
   * consumers through the inbox, and a restarted shop on a persistent store
   * resumes the checkouts in flight (docs/consistency.md).
   */
  store?: string;
  /** PostgreSQL schema of the store's tables (Ferry's and the shop's). Default `"public"`. */
  storeSchema?: string;
  /**
   * Resolve only once the store is open and recovery done (default true).
   * With false, `startShop` resolves as soon as it listens (PGlite takes a
   * second or more to open) and calls wait for the store; `shop.ready`
   * tells when it is open, or rejects with why not.
   */
  waitForStore?: boolean;
  /** Random source for the payment failures, for tests. */
  random?: () => number;
  logger?: Logger;
  /**
   * Authentication and authorization (docs/security.md): `true` or options
   * turn on the development identity provider (`POST /v1/auth/token`,
   * `GET /.well-known/jwks.json`) and enforce `shopPolicy` on the gRPC port
   * and the HTTP API; `external` also trusts another identity provider.
   * The services call each other on an internal server without checks.
   * Default true: secure by default, like `npm start` (which turns it off
   * only with `--insecure`); `false` opens every method to every caller
   * (tests and demos that call the API without tokens).
   */
  auth?: boolean | ShopAuthOptions;
  /** Origins allowed to call the HTTP API from browsers (CORS). Default none. */
  corsOrigins?: readonly string[];
  /** Requests per second per principal (with `auth`) or client IP at the HTTP API; over it, 429. Default unlimited. */
  rateLimitPerSecond?: number;
}

/** A running shop. */
export interface Shop {
  readonly server: Server;
  readonly gateway: Gateway;
  /** `grpc://host:port` */
  readonly grpcUrl: string;
  /** `http://host:port` */
  readonly httpUrl: string;
  /** `native://127.0.0.1:port` when the services call each other over the native transport. */
  readonly nativeUrl: string | undefined;
  /** The events broker. */
  readonly broker: Broker;
  /** The store, relay, saga runner and services; `undefined` until {@link Shop.ready} resolved. */
  readonly consistency: ShopConsistency | undefined;
  /** Resolves once the store is open and what a crash interrupted is resumed; rejects when the store cannot be opened. */
  readonly ready: Promise<void>;
  /** With `auth`: the development identity provider (`issueToken(userId)`, its JWKS). */
  readonly identityProvider: DevIdentityProvider | undefined;
  /** Graceful stop: the HTTP API and the gRPC port stop accepting, in-flight calls finish (up to `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts the shop on embedded defaults: every service in this process, calling
 * each other in-process, served on one gRPC port and through the HTTP gateway;
 * events on an embedded broker unless `broker` names a real one.
 * Rejects with the listener's error (EADDRINUSE names the port).
 */
export async function startShop(options: ShopOptions = {}): Promise<Shop> {
  const host = options.host ?? "127.0.0.1";
  const logger = options.logger ?? getDefaultLogger();
  const rate = options.paymentFailureRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`payment failure rate must be between 0 and 1, got ${rate}`);
  const broker = await createBroker(options.broker ?? `memory:shop-${randomUUID()}`, { logger });
  const auth = options.auth === false ? undefined : await createShopAuth(options.auth === undefined || options.auth === true ? {} : options.auth);
  // With auth, callers from outside reach `server` (the policy enforced); the services call each other on `internal`.
  const server = createServer({ logger, interceptors: auth === undefined ? [] : [auth.interceptor] });
  const internal = auth === undefined ? server : createServer({ logger, health: false });
  let nativeUrl: string | undefined;
  let local: ClientTransport = createInProcessTransport(internal);
  if (options.internalTransport === "native") {
    nativeUrl = (await internal.listen("native://127.0.0.1:0")).url;
    local = await clientTransportFromUrl(nativeUrl);
  } else if (options.internalTransport !== undefined && options.internalTransport !== "inproc") {
    throw new RangeError(`internal transport must be "inproc" or "native", got "${String(options.internalTransport)}"`);
  }
  const inventory = createClient(InventoryService, local);
  const cart = createClient(CartService, local);
  const payment = createClient(PaymentService, local);
  // The store opens (PGlite: a second or more) once both ports listen; calls wait for it.
  const storeUrl = options.store ?? "pglite:";
  let consistency: ShopConsistency | undefined;
  let listening!: () => void;
  const listened = new Promise<void>((resolve) => (listening = resolve));
  let opened = false;
  const opening = listened.then(() => createShopConsistency(storeUrl, { inventory, cart, payment, broker, logger, paymentFailureRate: rate, random: options.random, schema: options.storeSchema }));
  const ready = opening.then(async (c) => {
    await c.start();
    consistency = c;
  });
  ready.catch(() => undefined); // observed through shop.ready or waitForStore
  const unavailable = (err: unknown) => new FerryError(Code.UNAVAILABLE, `the shop's store ${redactSecrets(storeUrl)} is not available: ${(err as Error).message}`, { cause: err });
  const impl = <K extends keyof ShopImpls>(key: K) => opening.then((c) => c.impls[key]);
  const orderImpl = deferredService(OrderService, impl("orders"), unavailable);
  // WatchStock (server streaming) is served beside the deferred inventory, which sees Reserve and Release through it.
  const stockWatch = createStockWatch();
  const inventoryImpl = { ...deferredService(InventoryService, stockWatch.observe(impl("inventory")), unavailable), watchStock: stockWatch.watchStock };
  for (const target of new Set([server, internal])) {
    const guarded = target === server && auth !== undefined ? { ...orderImpl, getOrder: ownOrdersOnly(orderImpl.getOrder!.bind(orderImpl)) } : orderImpl;
    target
      .service(InventoryService, inventoryImpl)
      .service(PaymentService, deferredService(PaymentService, impl("payment"), unavailable))
      .service(CartService, deferredService(CartService, impl("cart"), unavailable))
      .service(OrderService, guarded)
      .service(AnalyticsService, deferredService(AnalyticsService, impl("analytics"), unavailable))
      .service(NotificationService, deferredService(NotificationService, impl("notifications"), unavailable));
  }

  addReflectionService(server); // so grpcurl and other gRPC tools can list and describe the shop's services
  const grpcUrl = await server.listen(`grpc://${host.includes(":") ? `[${host}]` : host}:${options.grpcPort ?? 50051}`).then((a) => a.url, async (err: unknown) => {
    await internal.shutdown(0);
    await local.close();
    await broker.close();
    throw err;
  });
  const gateway = createGateway({
    services: shopServices,
    // With auth the gateway calls the checked server; without, the same server as the services.
    transport: auth === undefined ? local : createInProcessTransport(server),
    logger,
    verifier: auth?.verifier,
    jsonRoutes: auth?.idp.routes,
    cors: options.corsOrigins !== undefined && options.corsOrigins.length > 0 ? { origins: options.corsOrigins } : undefined,
    rateLimit: options.rateLimitPerSecond !== undefined ? { ratePerSecond: options.rateLimitPerSecond } : undefined,
    // GET /openapi.json and /docs (Swagger UI) describe the routes above.
    openapi: { title: "Ferry shop", version: "1.0.0", description: "The shop example's HTTP API, generated from its .proto contract.", bearerAuth: auth !== undefined },
    // GET /asyncapi.json describes the events the shop publishes.
    asyncapi: { title: "Ferry shop events", version: "1.0.0", topics: [cartItemAdded, orderPlaced, paymentFailed] },
  });
  const closeStore = () => (opened ? opening.then((c) => c.close(), () => undefined) : Promise.resolve());
  let httpUrl: string;
  try {
    httpUrl = await gateway.listen(options.httpPort ?? 8080, host);
    opened = true;
    listening();
    if (options.waitForStore !== false) await ready;
  } catch (err) {
    await gateway.close();
    await server.shutdown(0);
    await internal.shutdown(0);
    await closeStore();
    await local.close();
    await broker.close();
    throw err;
  }
  return {
    server,
    gateway,
    grpcUrl,
    httpUrl,
    nativeUrl,
    broker,
    get consistency() {
      return consistency;
    },
    ready,
    identityProvider: auth?.idp,
    async close(graceMs = 5000) {
      await gateway.close();
      await server.shutdown(graceMs);
      await internal.shutdown(graceMs);
      await closeStore();
      await local.close();
      await broker.close();
    },
  };
}
