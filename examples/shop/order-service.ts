import { randomUUID } from "node:crypto";
import { Code, FerryError, type Client, type ServiceImpl } from "../../src/index.js";
import type { CartService } from "./gen/shop/v1/cart_pb.js";
import { oneAtATime } from "./one-at-a-time.js";
import { OrderStatus, type Order, type OrderService } from "./gen/shop/v1/order_pb.js";
import type { PaymentService } from "./gen/shop/v1/payment_pb.js";
import { orderPlaced, paymentFailed, publishEvent, type EventPublisher } from "./events.js";

/** The services checkout calls. */
export interface OrderDeps {
  cart: Client<typeof CartService>;
  payment: Client<typeof PaymentService>;
  /** Where `shop.order.placed` and `shop.payment.failed` are published; none when absent. */
  events?: EventPublisher;
}

/**
 * Checkout charges the cart's total and places the order. When the charge
 * fails, the reserved stock is released, the cart emptied, and the payment's
 * status code returned with a message saying so. FAILED_PRECONDITION for an
 * empty cart; NOT_FOUND from GetOrder for an unknown id. Checkouts of the same
 * user run one at a time, so a double click charges once.
 */
export function createOrderService(deps: OrderDeps): ServiceImpl<typeof OrderService> {
  const orders = new Map<string, Order>();
  const serial = oneAtATime<Order>();

  const checkout = async (userId: string): Promise<Order> => {
    const cart = await deps.cart.getCart({ userId });
    if (cart.lines.length === 0) throw new FerryError(Code.FAILED_PRECONDITION, `the cart of ${userId} is empty`);
    const orderId = `ord_${randomUUID()}`;
    let paymentId: string;
    try {
      ({ paymentId } = await deps.payment.charge({ userId, amountCents: cart.totalCents, idempotencyKey: orderId }));
    } catch (err) {
      const e = FerryError.from(err);
      await deps.cart.clearCart({ userId, releaseStock: true });
      await publishEvent(deps.events, paymentFailed, { userId, amountCents: cart.totalCents, code: e.code, reason: e.rawMessage, failedAtMs: BigInt(Date.now()) }, userId);
      throw new FerryError(e.code, `payment failed: ${e.rawMessage}; the reserved stock was released and the cart emptied`, { cause: e });
    }
    const order: Order = {
      $typeName: "shop.v1.Order",
      orderId,
      userId,
      lines: cart.lines,
      totalCents: cart.totalCents,
      paymentId,
      status: OrderStatus.PLACED,
      placedAtMs: BigInt(Date.now()),
    };
    orders.set(orderId, order);
    await deps.cart.clearCart({ userId, releaseStock: false });
    await publishEvent(deps.events, orderPlaced, { orderId, userId, lines: cart.lines, totalCents: cart.totalCents, paymentId, placedAtMs: order.placedAtMs }, userId);
    return order;
  };

  return {
    async checkout(req) {
      if (req.userId === "") throw new FerryError(Code.INVALID_ARGUMENT, "user_id is required");
      return serial(req.userId, () => checkout(req.userId));
    },
    listOrders(req) {
      const mine = [...orders.values()].filter((o) => o.userId === req.userId);
      return { orders: mine.sort((a, b) => Number(b.placedAtMs - a.placedAtMs)) };
    },
    getOrder(req) {
      const order = orders.get(req.orderId);
      if (order === undefined) throw new FerryError(Code.NOT_FOUND, `unknown order "${req.orderId}"`);
      return order;
    },
  };
}
