import type { Broker, Subscription } from "../../src/messaging/index.js";
import type { ServiceImpl } from "../../src/index.js";
import type { AnalyticsService, ProductSales } from "./gen/shop/v1/analytics_pb.js";
import { orderPlaced } from "./events.js";

/**
 * A projection of `shop.order.placed` (consumer group `analytics`): units
 * sold and revenue per SKU, served as the best sellers. Events with an order
 * id already counted are skipped, so redelivery (at-least-once) does not
 * count an order twice.
 */
export async function startAnalytics(broker: Broker): Promise<{ impl: ServiceImpl<typeof AnalyticsService>; subscription: Subscription }> {
  const sales = new Map<string, ProductSales>();
  const counted = new Set<string>();
  const subscription = await broker.subscribe(orderPlaced, { group: "analytics" }, (e) => {
    if (counted.has(e.orderId)) return;
    counted.add(e.orderId);
    for (const line of e.lines) {
      const s = sales.get(line.sku) ?? { $typeName: "shop.v1.ProductSales", sku: line.sku, name: line.name, unitsSold: 0, revenueCents: 0n };
      s.unitsSold += line.quantity;
      s.revenueCents += line.lineTotalCents;
      sales.set(line.sku, s);
    }
  });
  return {
    impl: {
      topProducts(req) {
        const limit = req.limit > 0 ? req.limit : 5;
        const products = [...sales.values()].sort((a, b) => b.unitsSold - a.unitsSold || a.sku.localeCompare(b.sku)).slice(0, limit);
        return { products, ordersCounted: counted.size };
      },
    },
    subscription,
  };
}
