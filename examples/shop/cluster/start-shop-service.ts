import type { DescService } from "@bufbuild/protobuf";
import {
  createRegistry,
  createServer,
  setDefaultRegistry,
  type Logger,
  type Registration,
  type Server,
  type ServiceImpl,
  type ServerTransport,
  type ServiceRegistry,
} from "../../../src/index.js";
import { createGrpcServerTransport } from "../../../src/transport/grpc/index.js";
import { createNativeServerTransport } from "../../../src/transport/native/index.js";
import { createGateway, type Gateway } from "../../../src/gateway/index.js";
import { createCartService } from "../cart-service.js";
import { seedCatalog } from "../catalog.js";
import { CartService } from "../gen/shop/v1/cart_pb.js";
import { InventoryService } from "../gen/shop/v1/inventory_pb.js";
import { OrderService } from "../gen/shop/v1/order_pb.js";
import { PaymentService } from "../gen/shop/v1/payment_pb.js";
import { createInventoryService } from "../inventory-service.js";
import { createMemoryInventoryStore, type InventoryStore } from "../inventory-store.js";
import { createOrderService } from "../order-service.js";
import { createPaymentService } from "../payment-service.js";
import { createRedisInventoryStore } from "../redis-inventory-store.js";
import { CallCounter } from "./call-counter.js";
import { clusterAuthInterceptor, clusterServerTls, type ClusterTls } from "./cluster-security.js";
import { forwardingService } from "./forwarding-service.js";
import { ShopChannels } from "./shop-channels.js";

/** What one process of the separate-process shop runs. */
export type ShopRole = "inventory" | "payment" | "cart" | "order" | "gateway";

/** Every {@link ShopRole}. */
export const SHOP_ROLES: readonly ShopRole[] = ["inventory", "payment", "cart", "order", "gateway"];

/** Default registration TTL of a shop process, in milliseconds (heartbeat every third). */
export const SHOP_TTL_MS = 3_000;

/** Options of {@link startShopService}. */
export interface ShopServiceOptions {
  role: ShopRole;
  /** Registry URL. Default `nats://127.0.0.1:4222`. */
  registryUrl?: string;
  /** Registration TTL in ms; heartbeats every third of it. Default {@link SHOP_TTL_MS}. */
  ttlMs?: number;
  /** Payment role: share of charges that fail with UNAVAILABLE, 0–1. Default 0. */
  paymentFailureRate?: number;
  /** Gateway role: HTTP port (0 picks one). Default 8080. */
  httpPort?: number;
  /** Also serve gRPC on this loopback port (0 picks one); registered next to the native endpoint. Default: no gRPC. */
  grpcPort?: number;
  /** Inventory role: `redis://host:port` of the shared stock. Default: in-process stock (instances do not share it). */
  storeUrl?: string;
  /** Inventory role: Redis key prefix. Default `"ferry-shop"`. */
  storePrefix?: string;
  /**
   * mTLS between the services (see cluster-security.ts): services listen on
   * `natives://` (and `grpcs://`) asking for client certificates, enforce
   * `clusterPolicy` on the SPIFFE IDs of their callers, and call each
   * other presenting this certificate. Default none: cleartext, no policy.
   */
  tls?: ClusterTls;
  logger: Logger;
}

/** A running shop process. */
export interface ShopService {
  readonly role: ShopRole;
  /** The registry instance id (`<role>-<pid>`; the gateway is not registered). */
  readonly instanceId: string;
  /** `native://127.0.0.1:port` (not for the gateway). */
  readonly nativeUrl: string | undefined;
  readonly grpcUrl: string | undefined;
  /** Gateway: `http://127.0.0.1:port`. */
  readonly httpUrl: string | undefined;
  /** Calls this process served (its native/gRPC server). */
  readonly counter: CallCounter;
  /** Deregisters, then drains in-flight calls (up to `graceMs`), then closes channels, store and registry. */
  close(graceMs?: number): Promise<void>;
}

const serviceOf: Record<Exclude<ShopRole, "gateway">, DescService> = {
  inventory: InventoryService,
  payment: PaymentService,
  cart: CartService,
  order: OrderService,
};

/**
 * Starts one shop service as this process's only service: it listens on
 * `native://127.0.0.1:0` (and gRPC when `grpcPort` is set), registers in the
 * registry with a short TTL and heartbeats, and calls the others through
 * `registry:///shop.v1.XService?transport=native` channels with the shop's
 * service config. The gateway role serves the HTTP JSON API (and, with
 * `grpcPort`, forwards gRPC calls) through the same channels.
 *
 * Rejects with UNAVAILABLE when the registry or store cannot be reached, and
 * with the listener's error (EADDRINUSE) for a taken port.
 */
export async function startShopService(options: ShopServiceOptions): Promise<ShopService> {
  const registry = await createRegistry(options.registryUrl ?? "nats://127.0.0.1:4222");
  setDefaultRegistry(registry);
  const channels = new ShopChannels({ registry, logger: options.logger, tls: options.tls });
  const counter = new CallCounter();
  // The gateway's own gRPC port is the edge (like its HTTP API): no service identities asked there.
  const auth = options.tls === undefined || options.role === "gateway" ? [] : [clusterAuthInterceptor()];
  const server = createServer({ logger: options.logger, interceptors: [...auth, counter.interceptor] });
  let store: InventoryStore | undefined;
  let gateway: Gateway | undefined;
  try {
    if (options.role === "gateway") {
      const services = [InventoryService, PaymentService, CartService, OrderService];
      gateway = createGateway({ services, transport: channels.router(services), logger: options.logger });
      const httpUrl = await gateway.listen(options.httpPort ?? 8080, "127.0.0.1");
      if (options.grpcPort !== undefined) {
        for (const s of services) server.service(s, forwardingService(s, channels.client(s)) as ServiceImpl<typeof s>);
        await server.listen(`grpc://127.0.0.1:${options.grpcPort}`);
      }
      return handle(options, { registry, channels, server, counter, gateway, httpUrl });
    }
    store = options.role === "inventory" ? await openStore(options) : undefined;
    const service = serviceOf[options.role];
    server.service(service, implementationOf(options, channels, store) as ServiceImpl<typeof service>);
    const nativeUrl = (await server.listen(listenAddress("native", 0, options.tls))).url;
    const grpcUrl = options.grpcPort === undefined ? undefined : (await server.listen(listenAddress("grpc", options.grpcPort, options.tls))).url;
    const endpoints = [{ transport: "native", url: nativeUrl }, ...(grpcUrl === undefined ? [] : [{ transport: "grpc", url: grpcUrl }])];
    const registration = await registry.register(
      { service: service.typeName, instanceId: `${options.role}-${process.pid}`, endpoints, metadata: { version: "1.0.0", role: options.role } },
      { ttlMs: options.ttlMs ?? SHOP_TTL_MS, onError: (err) => options.logger.warn({ err }, "registry heartbeat failed; retrying") },
    );
    return handle(options, { registry, channels, server, counter, registration, store, nativeUrl, grpcUrl });
  } catch (err) {
    await gateway?.close();
    await server.shutdown(0);
    await channels.close();
    await store?.close();
    await registry.close();
    throw err;
  }
}

/** A loopback listener: cleartext, or with the cluster's server TLS (client certificates requested). */
function listenAddress(transport: "native" | "grpc", port: number, tls: ClusterTls | undefined): string | ServerTransport {
  if (tls === undefined) return `${transport}://127.0.0.1:${port}`;
  const o = { host: "127.0.0.1", port, tls: clusterServerTls(tls) };
  return transport === "native" ? createNativeServerTransport(o) : createGrpcServerTransport(o);
}

function implementationOf(options: ShopServiceOptions, channels: ShopChannels, store: InventoryStore | undefined): unknown {
  switch (options.role) {
    case "inventory":
      return createInventoryService(store!);
    case "payment":
      return createPaymentService({ failureRate: options.paymentFailureRate });
    case "cart":
      return createCartService(channels.client(InventoryService));
    default:
      return createOrderService({ cart: channels.client(CartService), payment: channels.client(PaymentService) });
  }
}

async function openStore(options: ShopServiceOptions): Promise<InventoryStore> {
  if (options.storeUrl === undefined) {
    options.logger.warn({}, "no --store given: this inventory keeps its own stock in memory, not shared with other instances");
    return createMemoryInventoryStore(seedCatalog);
  }
  return createRedisInventoryStore({ url: options.storeUrl, keyPrefix: options.storePrefix, catalog: seedCatalog });
}

interface Parts {
  registry: ServiceRegistry;
  channels: ShopChannels;
  server: Server;
  counter: CallCounter;
  registration?: Registration;
  store?: InventoryStore;
  gateway?: Gateway;
  nativeUrl?: string;
  grpcUrl?: string;
  httpUrl?: string;
}

function handle(options: ShopServiceOptions, p: Parts): ShopService {
  let closing: Promise<void> | undefined;
  return {
    role: options.role,
    instanceId: p.registration?.instanceId ?? `gateway-${process.pid}`,
    nativeUrl: p.nativeUrl,
    grpcUrl: p.grpcUrl ?? p.server.addresses.find((a) => a.transport === "grpc")?.url,
    httpUrl: p.httpUrl,
    counter: p.counter,
    close(graceMs = 5_000) {
      closing ??= (async () => {
        await p.gateway?.close();
        await p.registration?.close();
        await p.server.shutdown(graceMs);
        await p.channels.close();
        await p.store?.close();
        await p.registry.close();
      })();
      return closing;
    },
  };
}
