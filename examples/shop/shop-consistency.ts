import { createOutboxRelay, createSagaRunner, createStore, type OutboxRelay, type SagaRunner, type SqlStore } from "../../src/consistency/index.js";
import type { Broker, Subscription } from "../../src/messaging/index.js";
import type { Client, Logger, ServiceImpl } from "../../src/index.js";
import { startAnalytics } from "./analytics-service.js";
import { createSqlCartService } from "./cart-sql-service.js";
import { seedCatalog } from "./catalog.js";
import { defineCheckoutSaga } from "./checkout-saga.js";
import type { AnalyticsService } from "./gen/shop/v1/analytics_pb.js";
import type { CartService } from "./gen/shop/v1/cart_pb.js";
import type { InventoryService } from "./gen/shop/v1/inventory_pb.js";
import type { NotificationService } from "./gen/shop/v1/notification_pb.js";
import type { OrderService } from "./gen/shop/v1/order_pb.js";
import type { PaymentService } from "./gen/shop/v1/payment_pb.js";
import { createInventoryService } from "./inventory-service.js";
import { createSqlInventoryStore } from "./inventory-sql-store.js";
import { createPaymentService } from "./payment-service.js";
import { startNotifications } from "./notification-service.js";
import { createSagaOrderService } from "./saga-order-service.js";
import { createShopTables } from "./shop-schema.js";

/** The shop's services, each keeping its state in the store. */
export interface ShopImpls {
  readonly inventory: ServiceImpl<typeof InventoryService>;
  readonly payment: ServiceImpl<typeof PaymentService>;
  readonly cart: ServiceImpl<typeof CartService>;
  readonly orders: ServiceImpl<typeof OrderService>;
  readonly analytics: ServiceImpl<typeof AnalyticsService>;
  readonly notifications: ServiceImpl<typeof NotificationService>;
}

/** The shop's consistency machinery: store, outbox relay, saga runner, and the services on them. */
export interface ShopConsistency {
  readonly store: SqlStore;
  readonly relay: OutboxRelay;
  readonly runner: SagaRunner;
  readonly impls: ShopImpls;
  /**
   * Finishes what a crash interrupted, then runs: AddItems whose reservation
   * was pending, checkouts in flight (the saga runner resumes them), and the
   * relay (publishes committed events not yet sent). Call once the services
   * are served (recovery calls them).
   */
  start(): Promise<void>;
  /** Stops the consumers, the runner and the relay, then closes the store. */
  close(): Promise<void>;
}

/** What the shop's state needs besides the store URL. */
export interface ShopConsistencyDeps {
  readonly inventory: Client<typeof InventoryService>;
  readonly cart: Client<typeof CartService>;
  readonly payment: Client<typeof PaymentService>;
  readonly broker: Broker;
  readonly logger: Logger;
  /** Share of payments that fail, 0–1. Default 0. */
  readonly paymentFailureRate?: number;
  /** Random source for the payment failures, for tests. */
  readonly random?: () => number;
  /** Schema of the store's tables. Default `"public"`. */
  readonly schema?: string;
  /** The saga runner's id: stable, so a restarted shop resumes its checkouts at once. Default `"shop"`. */
  readonly runnerId?: string;
}

/**
 * Opens the store at `url` (`pglite:`, `pglite://DIR`, `postgres://…`),
 * creates the shop's tables (shop-schema.ts) and builds every service on it:
 * inventory, payment and cart state, the checkout saga with its runner, the
 * outbox relay to `broker`, and the notification and analytics consumers on
 * the inbox.
 */
export async function createShopConsistency(url: string, deps: ShopConsistencyDeps): Promise<ShopConsistency> {
  const store = await createStore(url, { logger: deps.logger, schema: deps.schema });
  const subscriptions: Subscription[] = [];
  try {
    await createShopTables(store, seedCatalog);
    const saga = defineCheckoutSaga({ store, cart: deps.cart, payment: deps.payment });
    const runner = createSagaRunner({ store, sagas: [saga], runnerId: deps.runnerId ?? "shop", logger: deps.logger });
    const relay = createOutboxRelay({ store, broker: deps.broker, logger: deps.logger });
    const cart = createSqlCartService(store, deps.inventory);
    const analytics = await startAnalytics(deps.broker, store);
    subscriptions.push(analytics.subscription);
    const notifications = await startNotifications(deps.broker, deps.logger, store);
    subscriptions.push(...notifications.subscriptions);
    const impls: ShopImpls = {
      inventory: createInventoryService(createSqlInventoryStore(store)),
      payment: createPaymentService({ store, failureRate: deps.paymentFailureRate, random: deps.random }),
      cart: cart.impl,
      orders: createSagaOrderService({ store, cart: deps.cart, runner, saga }),
      analytics: analytics.impl,
      notifications: notifications.impl,
    };
    return {
      store,
      relay,
      runner,
      impls,
      async start() {
        await cart.recover();
        await relay.start();
        await runner.start();
      },
      async close() {
        await Promise.allSettled(subscriptions.map((s) => s.stop()));
        await runner.stop();
        await relay.stop();
        await store.close();
      },
    };
  } catch (err) {
    await Promise.allSettled(subscriptions.map((s) => s.stop()));
    await store.close();
    throw err;
  }
}
