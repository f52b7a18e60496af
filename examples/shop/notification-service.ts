import { createInbox, type SqlStore, type SqlTransaction } from "../../src/consistency/index.js";
import type { Broker, Subscription } from "../../src/messaging/index.js";
import type { Logger, ServiceImpl } from "../../src/index.js";
import type { Notification, NotificationService } from "./gen/shop/v1/notification_pb.js";
import { orderPlaced, paymentFailed, SHOP_ACK_TIMEOUT_MS } from "./events.js";

/** ListNotifications answers with at most this many, the newest. */
const MAX_PER_USER = 100;

interface NotificationRow extends Record<string, unknown> {
  user_id: string;
  kind: string;
  order_id: string;
  text: string;
  created_at_ms: string | number;
}

/**
 * Consumes `shop.order.placed` and `shop.payment.failed` in consumer group
 * `notification` and records the resulting notifications per user in the
 * store (`shop_notifications`, a stand-in for e-mail). Each event goes
 * through the inbox (docs/consistency.md): the notification and the
 * "handled" mark commit together, so a redelivered event notifies exactly
 * once. Each notification is logged at info level after its commit.
 */
export async function startNotifications(
  broker: Broker,
  logger: Logger,
  store: SqlStore,
): Promise<{ impl: ServiceImpl<typeof NotificationService>; subscriptions: Subscription[] }> {
  const s = store.schema;
  const inbox = createInbox({ group: "notification", schema: s });
  const add = async (tx: SqlTransaction, n: Omit<Notification, "$typeName">) => {
    await tx.query(`INSERT INTO ${s}.shop_notifications (user_id, kind, order_id, text, created_at_ms) VALUES ($1, $2, $3, $4, $5)`, [
      n.userId, n.kind, n.orderId, n.text, String(n.createdAtMs),
    ]);
    queueMicrotask(() => logger.info({ userId: n.userId, kind: n.kind, orderId: n.orderId }, n.text));
  };
  const subscriptions = [
    await broker.subscribe(orderPlaced, { group: "notification", ackTimeoutMs: SHOP_ACK_TIMEOUT_MS }, inbox.handler(store, (tx, e) =>
      add(tx, { userId: e.userId, kind: "order_placed", orderId: e.orderId, text: `Order ${e.orderId} placed: ${formatCents(e.totalCents)} charged.`, createdAtMs: BigInt(Date.now()) }),
    )),
    await broker.subscribe(paymentFailed, { group: "notification", ackTimeoutMs: SHOP_ACK_TIMEOUT_MS }, inbox.handler(store, (tx, e) =>
      add(tx, { userId: e.userId, kind: "payment_failed", orderId: "", text: `Your payment of ${formatCents(e.amountCents)} failed: ${e.reason}`, createdAtMs: BigInt(Date.now()) }),
    )),
  ];
  return {
    impl: {
      async listNotifications(req) {
        const rows = await store.query<NotificationRow>(
          `SELECT * FROM (SELECT * FROM ${s}.shop_notifications WHERE user_id = $1 ORDER BY seq DESC LIMIT $2) n ORDER BY seq`,
          [req.userId, MAX_PER_USER],
        );
        const notifications = rows.map(
          (r): Notification => ({ $typeName: "shop.v1.Notification", userId: r.user_id, kind: r.kind, orderId: r.order_id, text: r.text, createdAtMs: BigInt(r.created_at_ms) }),
        );
        return { notifications };
      },
    },
    subscriptions,
  };
}

function formatCents(cents: bigint): string {
  return `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}`;
}
