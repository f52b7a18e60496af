/**
 * The shop end to end under crashes (issue 14): concurrent shoppers add
 * items and check out over gRPC while the shop process (state in the real
 * PostgreSQL, events on a NATS JetStream server of the test's own, half of
 * the payment attempts failing) is killed with SIGKILL and restarted, several times.
 * Then, once the last shop has resumed every checkout and the carts are
 * emptied: every placed order has exactly one notification, the analytics
 * totals equal the ordered quantities, every payment belongs to an order or
 * was refunded (never both), and stock plus ordered quantities equal the
 * initial stock. The kills land wherever the load happens to be; every
 * check holds wherever that is, so the test does not depend on timing.
 */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedCatalog } from "../../examples/shop/catalog.js";
import { CartService } from "../../examples/shop/gen/shop/v1/cart_pb.js";
import { OrderService } from "../../examples/shop/gen/shop/v1/order_pb.js";
import { closeClient, createClient } from "../../src/index.js";
import { brokerBinaries, missingBinary, startPrivateNats, type PrivateBroker } from "../messaging/private-brokers.js";
import { checkService } from "../support/services.js";
import { exited, forkChild } from "./child-support.js";
import { openPostgres, testSchema, waitFor, type TestStore } from "./test-stores.js";

const pg = await checkService("PostgreSQL", "127.0.0.1", 5432);
const natsMissing = missingBinary(brokerBinaries.nats);
const child = fileURLToPath(new URL("./shop-child.ts", import.meta.url));

const USERS = 12;
const KILLS = 3;
const SKUS = ["CB-010", "MS-002", "LP-009", "KB-001"];

describe.skipIf(pg.skip || natsMissing !== undefined)("shop killed and restarted during checkouts (PostgreSQL, NATS)", () => {
  let t: TestStore;
  let nats: PrivateBroker;
  let running: ChildProcess | undefined;
  beforeAll(async () => {
    [t, nats] = await Promise.all([openPostgres(testSchema()), startPrivateNats()]);
  }, 60_000);
  afterAll(async () => {
    running?.kill("SIGKILL");
    await nats?.stop();
    await t?.dispose();
  });

  /** Starts a shop process; resolves with it and its gRPC URL once it serves. */
  async function startChild(): Promise<{ proc: ChildProcess; grpcUrl: string }> {
    const proc = forkChild(child, { store: t.url, schema: t.store.schema, broker: nats.url, paymentFailureRate: 0.5 });
    running = proc;
    const grpcUrl = await new Promise<string>((resolve, reject) => {
      proc.once("message", (m: { grpcUrl: string }) => resolve(m.grpcUrl));
      proc.once("exit", (code) => reject(new Error(`the shop process exited (${code}) before serving`)));
    });
    return { proc, grpcUrl };
  }

  /** One shopper: add an item or two, check out, again, until `stop`; every error (the shop died) is ignored. */
  async function shopper(grpcUrl: string, user: string, stop: { now: boolean }): Promise<void> {
    const cart = createClient(CartService, grpcUrl);
    const orders = createClient(OrderService, grpcUrl);
    const options = { timeoutMs: 10_000 };
    try {
      while (!stop.now) {
        const sku = SKUS[Math.floor(Math.random() * SKUS.length)];
        await cart.addItem({ userId: user, sku, quantity: 1 + Math.floor(Math.random() * 2) }, options).catch(() => undefined);
        if (Math.random() < 0.8) await orders.checkout({ userId: user }, options).catch(() => undefined);
      }
    } finally {
      await closeClient(cart);
      await closeClient(orders);
    }
  }

  it("keeps orders, notifications, analytics, payments and stock consistent", async () => {
    const users = Array.from({ length: USERS }, (_, i) => `kill-${i}`);
    for (let round = 0; round < KILLS; round++) {
      const { proc, grpcUrl } = await startChild();
      const stop = { now: false };
      const load = users.map((u) => shopper(grpcUrl, u, stop));
      await new Promise((r) => setTimeout(r, 800 + Math.random() * 1200));
      proc.kill("SIGKILL");
      stop.now = true;
      await exited(proc);
      await Promise.all(load);
    }
    const { proc, grpcUrl } = await startChild(); // resumes the checkouts in flight, relays what was not sent
    const s = t.store.schema;
    const q = <R extends Record<string, unknown>>(sql: string) => t.store.query<R>(sql.replaceAll("$s", s));
    await waitFor(async () => (await q(`SELECT 1 FROM $s.ferry_sagas WHERE status IN ('running', 'compensating')`)).length === 0, "every checkout to end", 30_000);
    await waitFor(async () => (await q(`SELECT 1 FROM $s.shop_cart_pending`)).length === 0, "pending reservations to be recovered", 10_000);
    expect(await q(`SELECT id, attention_reason FROM $s.ferry_sagas WHERE status = 'needs_attention'`)).toEqual([]);
    const cart = createClient(CartService, grpcUrl);
    for (const user of users) await cart.clearCart({ userId: user, releaseStock: true });
    await closeClient(cart);

    const orders = await q<{ order_id: string; payment_id: string; lines: { sku: string; quantity: number }[] }>(`SELECT order_id, payment_id, lines FROM $s.shop_orders`);
    const sagas = await q<{ status: string }>(`SELECT status FROM $s.ferry_sagas`);
    expect(orders.length).toBeGreaterThan(0);
    expect(sagas.filter((x) => x.status === "committed").length).toBe(orders.length);
    // Notifications and analytics arrive through the relay and the broker: wait until they caught up.
    const notified = () => q<{ order_id: string; n: string }>(`SELECT order_id, count(*) AS n FROM $s.shop_notifications WHERE kind = 'order_placed' GROUP BY order_id`);
    const counted = async () => Number((await q<{ orders_counted: string }>(`SELECT orders_counted FROM $s.shop_analytics`))[0].orders_counted);
    await waitFor(async () => (await notified()).length >= orders.length && (await counted()) >= orders.length, "notifications and analytics of every order", 30_000);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate, if any, would arrive now

    const perOrder = new Map((await notified()).map((r) => [r.order_id, Number(r.n)]));
    expect(orders.filter((o) => perOrder.get(o.order_id) !== 1).map((o) => [o.order_id, perOrder.get(o.order_id)])).toEqual([]);
    expect(perOrder.size).toBe(orders.length);

    const ordered = new Map<string, number>();
    for (const o of orders) for (const l of o.lines) ordered.set(l.sku, (ordered.get(l.sku) ?? 0) + l.quantity);
    const sales = await q<{ sku: string; units_sold: string }>(`SELECT sku, units_sold FROM $s.shop_sales`);
    expect(Object.fromEntries(sales.map((r) => [r.sku, Number(r.units_sold)]))).toEqual(Object.fromEntries(ordered));
    expect(await counted()).toBe(orders.length);

    const payments = await q<{ payment_id: string; refunded: boolean }>(`SELECT payment_id, refunded FROM $s.shop_payments`);
    const orderPayments = new Set(orders.map((o) => o.payment_id));
    expect(payments.filter((p) => orderPayments.has(p.payment_id) === p.refunded)).toEqual([]);
    expect(orderPayments.size).toBe(orders.length);

    const stock = await q<{ sku: string; stock: number }>(`SELECT sku, stock FROM $s.shop_products`);
    const initial = new Map(seedCatalog.map((c) => [c.sku, c.stock]));
    expect(stock.map((p) => [p.sku, p.stock + (ordered.get(p.sku) ?? 0)]).sort()).toEqual([...initial.entries()].sort());

    if (process.env.DEBUG_KILL) console.log(JSON.stringify({ orders: orders.length, payments: payments.length, sagas: await q(`SELECT status, count(*) FROM $s.ferry_sagas GROUP BY status`), resumed: await q(`SELECT count(*) FROM $s.ferry_saga_log WHERE kind = 'resumed'`), inbox: await q(`SELECT consumer_group, count(*) FROM $s.ferry_inbox GROUP BY 1`) }));
    proc.kill("SIGKILL");
    await exited(proc);
  }, 120_000);
});
