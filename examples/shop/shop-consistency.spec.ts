/**
 * The shop on its store (PGlite in memory, the default): checkout runs as a saga,
 * orders and their events go through the transactional outbox. A placed
 * order is read back from the store and notified once; a failed payment
 * ends compensated: the stock is released, the cart emptied, and
 * shop.payment.failed notified.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, createInProcessTransport, type ClientTransport } from "../../src/index.js";
import { CartService } from "./gen/shop/v1/cart_pb.js";
import { InventoryService } from "./gen/shop/v1/inventory_pb.js";
import { NotificationService } from "./gen/shop/v1/notification_pb.js";
import { OrderService } from "./gen/shop/v1/order_pb.js";
import { startShop, type Shop } from "./shop.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("shop checkout as a saga with the outbox (PGlite)", () => {
  let shop: Shop;
  let transport: ClientTransport;
  let failPayments = false;
  beforeAll(async () => {
    shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, store: "pglite:", paymentFailureRate: 0.5, random: () => (failPayments ? 0 : 0.99), logger: quiet });
    transport = createInProcessTransport(shop.server);
  }, 60_000);
  afterAll(async () => {
    await transport?.close();
    await shop?.close(0);
  });

  it("places the order, stores it and notifies it once", async () => {
    const cart = createClient(CartService, transport);
    const orders = createClient(OrderService, transport);
    const notifications = createClient(NotificationService, transport);
    await cart.addItem({ userId: "saga-ann", sku: "KB-001", quantity: 2 });
    const order = await orders.checkout({ userId: "saga-ann" });
    expect(order.lines.map((l) => [l.sku, l.quantity])).toEqual([["KB-001", 2]]);
    expect((await orders.getOrder({ orderId: order.orderId })).paymentId).toBe(order.paymentId);
    const status = await shop.consistency!.runner.status(order.orderId);
    expect(status?.history.map((h) => h.kind)).toEqual(["started", "step_completed", "step_completed", "step_completed", "step_completed", "committed"]);
    const list = await eventually(
      () => notifications.listNotifications({ userId: "saga-ann" }),
      (r) => r.notifications.length > 0,
    );
    expect(list.notifications.map((n) => [n.orderId, n.text])).toEqual([[order.orderId, expect.stringContaining(order.orderId)]]);
    expect((await orders.listOrders({ userId: "saga-ann" })).orders.map((o) => o.orderId)).toEqual([order.orderId]);
    const viaHttp = (await (await fetch(`${shop.httpUrl}/v1/users/saga-ann/orders`)).json()) as { orders: { orderId: string }[] };
    expect(viaHttp.orders.map((o) => o.orderId)).toEqual([order.orderId]);
    expect((await cart.getCart({ userId: "saga-ann" })).lines).toEqual([]);
  });

  it("compensates a failed payment: stock released, cart emptied, payment failure notified", async () => {
    const cart = createClient(CartService, transport);
    const orders = createClient(OrderService, transport);
    const inventory = createClient(InventoryService, transport);
    const notifications = createClient(NotificationService, transport);
    const before = (await inventory.getProduct({ sku: "KB-001" })).stock;
    await cart.addItem({ userId: "saga-bob", sku: "KB-001", quantity: 3 });
    failPayments = true;
    try {
      await expect(orders.checkout({ userId: "saga-bob" })).rejects.toThrow(/payment failed: .*the reserved stock was released/);
    } finally {
      failPayments = false;
    }
    expect((await inventory.getProduct({ sku: "KB-001" })).stock).toBe(before);
    expect((await cart.getCart({ userId: "saga-bob" })).lines).toEqual([]);
    const list = await eventually(
      () => notifications.listNotifications({ userId: "saga-bob" }),
      (r) => r.notifications.length > 0,
    );
    expect(list.notifications.map((n) => n.kind)).toEqual(["payment_failed"]);
  });
});

describe("shop ListOrders", () => {
  it("lists a user's orders from the store, newest first, over HTTP", async () => {
    const shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, logger: quiet });
    try {
      const transport = createInProcessTransport(shop.server);
      const cart = createClient(CartService, transport);
      const orders = createClient(OrderService, transport);
      const placed: string[] = [];
      for (const sku of ["KB-001", "KB-001"]) {
        await cart.addItem({ userId: "mem-cy", sku, quantity: 1 });
        placed.push((await orders.checkout({ userId: "mem-cy" })).orderId);
        await new Promise((r) => setTimeout(r, 2));
      }
      const body = (await (await fetch(`${shop.httpUrl}/v1/users/mem-cy/orders`)).json()) as { orders: { orderId: string }[] };
      expect(body.orders.map((o) => o.orderId)).toEqual([...placed].reverse());
      await transport.close();
    } finally {
      await shop.close(0);
    }
  });
});
