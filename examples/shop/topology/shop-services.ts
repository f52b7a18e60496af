/**
 * The shop's services as a topology runs them (docs/deployment.md): each
 * definition builds one service from the shop's own implementations, on the
 * group's store (shop-store.ts), its broker and its clients. Whether a client
 * is in-process or remote is the topology's business, not the service's.
 */
import { hostname } from "node:os";
import { createSagaRunner } from "../../../src/consistency/index.js";
import { defineService, implement } from "../../../src/topology/index.js";
import { startAnalytics } from "../analytics-service.js";
import { createSqlCartService } from "../cart-sql-service.js";
import { defineCheckoutSaga } from "../checkout-saga.js";
import { AnalyticsService } from "../gen/shop/v1/analytics_pb.js";
import { CartService } from "../gen/shop/v1/cart_pb.js";
import { InventoryService } from "../gen/shop/v1/inventory_pb.js";
import { NotificationService } from "../gen/shop/v1/notification_pb.js";
import { OrderService } from "../gen/shop/v1/order_pb.js";
import { PaymentService } from "../gen/shop/v1/payment_pb.js";
import { createInventoryService } from "../inventory-service.js";
import { createSqlInventoryStore } from "../inventory-sql-store.js";
import { startNotifications } from "../notification-service.js";
import { createPaymentService } from "../payment-service.js";
import { createSagaOrderService } from "../saga-order-service.js";
import { shopStore } from "./shop-store.js";

/** `shop.v1.InventoryService`: stock in the store (reserve and release idempotent by id). */
export const inventory = defineService({
  provides: [InventoryService],
  async start(ctx) {
    const s = await shopStore(ctx);
    return { implementations: [implement(InventoryService, createInventoryService(createSqlInventoryStore(s.store)))], close: () => s.release() };
  },
});

/** Settings of {@link payment}. */
export interface PaymentConfig {
  /** Share of charges that fail with UNAVAILABLE, 0–1 (a number, or its text from `${VAR}`). Default 0. */
  failureRate?: number | string;
}

/** `shop.v1.PaymentService`: a pretend provider; charges kept by idempotency key in the store. */
export const payment = defineService<PaymentConfig>({
  provides: [PaymentService],
  async start(ctx) {
    const rate = Number(ctx.config.failureRate ?? 0);
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`services.payment.config.failureRate must be between 0 and 1, got ${String(ctx.config.failureRate)}`);
    const s = await shopStore(ctx);
    return { implementations: [implement(PaymentService, createPaymentService({ store: s.store, failureRate: rate }))], close: () => s.release() };
  },
});

/** `shop.v1.CartService`: carts in the store; reserves stock through inventory; `shop.cart.item_added` through the outbox. */
export const cart = defineService({
  provides: [CartService],
  async start(ctx) {
    const s = await shopStore(ctx);
    const service = createSqlCartService(s.store, ctx.client(InventoryService));
    // Completes reservations a crash left pending; it calls inventory, which may still be starting elsewhere.
    void service.recover().catch((err: unknown) => ctx.logger.warn({ err }, "cart recovery failed; pending reservations stay until the next start"));
    return { implementations: [implement(CartService, service.impl)], close: () => s.release() };
  },
});

/** `shop.v1.OrderService`: checkout as the `shop.checkout` saga (cart, payment; compensations), orders in the store. */
export const order = defineService({
  provides: [OrderService],
  async start(ctx) {
    const s = await shopStore(ctx);
    const cartClient = ctx.client(CartService);
    const saga = defineCheckoutSaga({ store: s.store, cart: cartClient, payment: ctx.client(PaymentService) });
    // Unique among live runners (two must never share an id), stable across restarts of a Kubernetes pod.
    const runner = createSagaRunner({ store: s.store, sagas: [saga], runnerId: `${ctx.topology}-${ctx.group}-${hostname()}-${process.pid}`, logger: ctx.logger });
    await runner.start();
    return {
      implementations: [implement(OrderService, createSagaOrderService({ store: s.store, cart: cartClient, runner, saga }))],
      async close() {
        await runner.stop();
        await s.release();
      },
    };
  },
});

/** `shop.v1.AnalyticsService`: best sellers from `shop.order.placed` (consumer group `analytics`, through the inbox). */
export const analytics = defineService({
  provides: [AnalyticsService],
  async start(ctx) {
    const s = await shopStore(ctx);
    const { impl, subscription } = await startAnalytics(await ctx.broker(), s.store);
    return {
      implementations: [implement(AnalyticsService, impl)],
      async close() {
        await subscription.stop();
        await s.release();
      },
    };
  },
});

/** `shop.v1.NotificationService`: notifications from `shop.order.placed` and `shop.payment.failed` (consumer group `notification`, through the inbox). */
export const notification = defineService({
  provides: [NotificationService],
  async start(ctx) {
    const s = await shopStore(ctx);
    const { impl, subscriptions } = await startNotifications(await ctx.broker(), ctx.logger, s.store);
    return {
      implementations: [implement(NotificationService, impl)],
      async close() {
        await Promise.allSettled(subscriptions.map((sub) => sub.stop()));
        await s.release();
      },
    };
  },
});
