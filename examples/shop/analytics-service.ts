import { createInbox, type SqlStore } from "../../src/consistency/index.js";
import type { Broker, Subscription } from "../../src/messaging/index.js";
import type { ServiceImpl } from "../../src/index.js";
import type { AnalyticsService, ProductSales } from "./gen/shop/v1/analytics_pb.js";
import { orderPlaced, SHOP_ACK_TIMEOUT_MS } from "./events.js";

interface SalesRow extends Record<string, unknown> {
  sku: string;
  name: string;
  units_sold: string | number;
  revenue_cents: string | number;
}

/**
 * A projection of `shop.order.placed` (consumer group `analytics`) in the
 * store: units sold and revenue per SKU (`shop_sales`) and the orders
 * counted (`shop_analytics`), served as the best sellers. Each event goes
 * through the inbox (docs/consistency.md): the totals and the "handled" mark
 * commit together, so a redelivered event (a relay republish, a lost ack, a
 * crash before the ack) is counted exactly once.
 */
export async function startAnalytics(broker: Broker, store: SqlStore): Promise<{ impl: ServiceImpl<typeof AnalyticsService>; subscription: Subscription }> {
  const s = store.schema;
  const inbox = createInbox({ group: "analytics", schema: s });
  const subscription = await broker.subscribe(orderPlaced, { group: "analytics", ackTimeoutMs: SHOP_ACK_TIMEOUT_MS }, inbox.handler(store, async (tx, e) => {
    for (const line of e.lines) {
      await tx.query(
        `INSERT INTO ${s}.shop_sales VALUES ($1, $2, $3, $4)
         ON CONFLICT (sku) DO UPDATE SET units_sold = shop_sales.units_sold + EXCLUDED.units_sold, revenue_cents = shop_sales.revenue_cents + EXCLUDED.revenue_cents`,
        [line.sku, line.name, line.quantity, String(line.lineTotalCents)],
      );
    }
    await tx.query(`UPDATE ${s}.shop_analytics SET orders_counted = orders_counted + 1 WHERE id = 1`);
  }));
  return {
    impl: {
      async topProducts(req) {
        const limit = req.limit > 0 ? req.limit : 5;
        const rows = await store.query<SalesRow>(`SELECT * FROM ${s}.shop_sales ORDER BY units_sold DESC, sku LIMIT $1`, [limit]);
        const counted = await store.query<{ orders_counted: string | number }>(`SELECT orders_counted FROM ${s}.shop_analytics WHERE id = 1`);
        const products = rows.map(
          (r): ProductSales => ({ $typeName: "shop.v1.ProductSales", sku: r.sku, name: r.name, unitsSold: Number(r.units_sold), revenueCents: BigInt(r.revenue_cents) }),
        );
        return { products, ordersCounted: Number(counted[0]?.orders_counted ?? 0) };
      },
    },
    subscription,
  };
}
