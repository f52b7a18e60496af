import { createInbox, type SqlStore } from "../../src/consistency/index.js";
import type { Broker, Delivery, Subscription } from "../../src/messaging/index.js";
import type { Logger, ServiceImpl } from "../../src/index.js";
import type { Notification, NotificationService } from "./gen/shop/v1/notification_pb.js";
import { orderPlaced, paymentFailed } from "./events.js";

/** Keeps at most this many notifications per user. */
const MAX_PER_USER = 100;

/**
 * Consumes `shop.order.placed` and `shop.payment.failed` in consumer group
 * `notification` and keeps the resulting notifications per user (a stand-in
 * for e-mail). Each event is logged at info level. With a `store`, each
 * event goes through the inbox (docs/consistency.md): a redelivered event
 * (a relay republish, a lost ack) notifies once. The notifications
 * themselves stay in memory, so a commit failing after one was added can
 * still add it twice.
 */
export async function startNotifications(
  broker: Broker,
  logger: Logger,
  store?: SqlStore,
): Promise<{ impl: ServiceImpl<typeof NotificationService>; subscriptions: Subscription[] }> {
  const byUser = new Map<string, Notification[]>();
  const add = (n: Omit<Notification, "$typeName">) => {
    const list = byUser.get(n.userId) ?? [];
    list.push({ $typeName: "shop.v1.Notification", ...n });
    if (list.length > MAX_PER_USER) list.shift();
    byUser.set(n.userId, list);
    logger.info({ userId: n.userId, kind: n.kind }, n.text);
  };
  const inbox = store === undefined ? undefined : createInbox({ group: "notification", schema: store.schema });
  const once = <M>(fn: (e: M) => void) =>
    inbox === undefined || store === undefined
      ? fn
      : (e: M, d: Delivery) => store.transaction((tx) => inbox.handle(tx, d, async () => fn(e))).then(() => undefined);
  const subscriptions = [
    await broker.subscribe(orderPlaced, { group: "notification" }, once((e) => {
      add({ userId: e.userId, kind: "order_placed", orderId: e.orderId, text: `Order ${e.orderId} placed: ${formatCents(e.totalCents)} charged.`, createdAtMs: BigInt(Date.now()) });
    })),
    await broker.subscribe(paymentFailed, { group: "notification" }, once((e) => {
      add({ userId: e.userId, kind: "payment_failed", orderId: "", text: `Your payment of ${formatCents(e.amountCents)} failed: ${e.reason}`, createdAtMs: BigInt(Date.now()) });
    })),
  ];
  return {
    impl: {
      listNotifications(req) {
        return { notifications: byUser.get(req.userId) ?? [] };
      },
    },
    subscriptions,
  };
}

function formatCents(cents: bigint): string {
  return `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}`;
}
