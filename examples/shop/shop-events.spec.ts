/**
 * The shop's events flow on every broker: checkout publishes
 * shop.order.placed, which the notification service and the analytics
 * projection consume; a failed payment publishes shop.payment.failed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkService } from "../../test/support/services.js";
import { startShop, type Shop } from "./shop.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const brokers = [
  { url: undefined, name: "memory", check: { skip: false, reason: "" } },
  { url: "nats://127.0.0.1:4222", name: "nats", check: await checkService("NATS", "127.0.0.1", 4222) },
  { url: "amqp://guest:guest@127.0.0.1:5672", name: "amqp", check: await checkService("RabbitMQ", "127.0.0.1", 5672) },
  { url: "redis://127.0.0.1:6379", name: "redis", check: await checkService("Redis", "127.0.0.1", 6379) },
];

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function get(shop: Shop, path: string): Promise<any> {
  return (await fetch(shop.httpUrl + path)).json();
}

async function post(shop: Shop, path: string, body?: unknown): Promise<Response> {
  return fetch(shop.httpUrl + path, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

for (const broker of brokers) {
  describe.skipIf(broker.check.skip)(`shop events on ${broker.name}`, () => {
    let shop: Shop;
    let failing: Shop;
    const user = `ev-${broker.name}-${Math.random().toString(36).slice(2, 8)}`;
    beforeAll(async () => {
      shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, logger: quiet, broker: broker.url });
      failing = await startShop({ auth: false, grpcPort: 0, httpPort: 0, logger: quiet, broker: broker.url, paymentFailureRate: 1 });
    });
    afterAll(async () => {
      await shop?.close(100);
      await failing?.close(100);
    });

    // Both shops below share the consumer groups "notification" and "analytics" on
    // a real broker (competing consumers), so each assertion reads both shops.
    it("checkout → notification and best-selling products", async () => {
      const sold = async () => {
        let units = 0;
        for (const s of [shop, failing]) units += (await get(s, "/v1/analytics/top-products?limit=20")).products?.find((p: { sku: string }) => p.sku === "SS-011")?.unitsSold ?? 0;
        return units;
      };
      const soldBefore = await sold();
      expect((await post(shop, `/v1/carts/${user}/items`, { sku: "SS-011", quantity: 2 })).status).toBe(200);
      const order = (await (await post(shop, `/v1/carts/${user}/checkout`)).json()) as { orderId: string };
      expect(order.orderId).toMatch(/^ord_/);
      const both = async () => ({
        notifications: [...((await get(shop, `/v1/users/${user}/notifications`)).notifications ?? []), ...((await get(failing, `/v1/users/${user}/notifications`)).notifications ?? [])],
      });
      const notes = await eventually(both, (n) => n.notifications.length > 0);
      expect(notes.notifications[0]).toMatchObject({ kind: "order_placed", text: expect.stringContaining(order.orderId) });
      expect(await eventually(sold, (n) => n >= soldBefore + 2)).toBeGreaterThanOrEqual(soldBefore + 2);
    });

    it("failed payment → a payment_failed notification", async () => {
      const u = `${user}-fail`;
      await post(failing, `/v1/carts/${u}/items`, { sku: "CB-010", quantity: 1 });
      expect((await post(failing, `/v1/carts/${u}/checkout`)).status).toBe(503);
      // Both shops' notification services are members of one consumer group on a
      // real broker, so either may have handled the event: look at both.
      const both = async () => ({
        notifications: [...((await get(failing, `/v1/users/${u}/notifications`)).notifications ?? []), ...((await get(shop, `/v1/users/${u}/notifications`)).notifications ?? [])],
      });
      const notes = await eventually(both, (n) => n.notifications.length > 0);
      expect(notes.notifications).toHaveLength(1);
      expect(notes.notifications[0]).toMatchObject({ kind: "payment_failed", text: expect.stringContaining("simulated failure") });
    });
  });
}
