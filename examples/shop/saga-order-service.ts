import { randomUUID } from "node:crypto";
import type { SagaDefinition, SagaRunner, SqlStore } from "../../src/consistency/index.js";
import { Code, FerryError, type Client, type ServiceImpl } from "../../src/index.js";
import { checkoutInput, readOrder, readOrders, type CheckoutInput } from "./checkout-saga.js";
import type { CartService } from "./gen/shop/v1/cart_pb.js";
import { oneAtATime } from "./one-at-a-time.js";
import type { Order, OrderService } from "./gen/shop/v1/order_pb.js";

/** What the saga-backed order service needs. */
export interface SagaOrderDeps {
  readonly store: SqlStore;
  readonly cart: Client<typeof CartService>;
  readonly runner: SagaRunner;
  readonly saga: SagaDefinition<CheckoutInput>;
}

/**
 * The order service when the shop has a store: Checkout runs the
 * `shop.checkout` saga (checkout-saga.ts) with the order id as saga id and
 * answers with the placed order, or with the failure's status code once the
 * saga compensated ("payment failed: …; the reserved stock was released and
 * the cart emptied"). Checkouts of one user run one at a time — also with
 * one resumed after a restart, which the next waits for — so each cart
 * line belongs to one checkout. Orders are read from the store (ListOrders: newest first). FAILED_PRECONDITION
 * for an empty cart; NOT_FOUND from GetOrder for an unknown id.
 */
export function createSagaOrderService(deps: SagaOrderDeps): ServiceImpl<typeof OrderService> {
  const serial = oneAtATime<Order>();
  const checkout = async (userId: string, signal: AbortSignal | undefined): Promise<Order> => {
    // A checkout of this user still in flight (resumed after a restart) owns the cart's lines it saw: let it end first.
    const inFlight = await deps.store.query<{ id: string }>(
      `SELECT id FROM ${deps.store.schema}.ferry_sagas WHERE name = $1 AND status IN ('running', 'compensating') AND input->>'userId' = $2`,
      [deps.saga.name, userId],
    );
    for (const { id } of inFlight) await deps.runner.wait(id, { signal });
    const cart = await deps.cart.getCart({ userId });
    if (cart.lines.length === 0) throw new FerryError(Code.FAILED_PRECONDITION, `the cart of ${userId} is empty`);
    const orderId = `ord_${randomUUID()}`;
    const status = await deps.runner.run(deps.saga, checkoutInput(orderId, userId, cart.lines, cart.totalCents), { sagaId: orderId });
    if (status.status === "committed") {
      const order = await readOrder(deps.store, orderId);
      if (order !== undefined) return order;
    }
    const [codeName, ...message] = (status.error ?? status.attentionReason ?? "INTERNAL: checkout did not complete").split(": ");
    const code = Code[codeName as keyof typeof Code] ?? Code.INTERNAL;
    const what = status.status === "needs_attention" ? "checkout failed and needs attention" : "payment failed";
    throw new FerryError(code, `${what}: ${message.join(": ")}; the reserved stock was released and the cart emptied`);
  };
  return {
    async checkout(req, ctx) {
      if (req.userId === "") throw new FerryError(Code.INVALID_ARGUMENT, "user_id is required");
      return serial(req.userId, () => checkout(req.userId, ctx.signal));
    },
    async listOrders(req) {
      return { orders: await readOrders(deps.store, req.userId) };
    },
    async getOrder(req) {
      const order = await readOrder(deps.store, req.orderId);
      if (order === undefined) throw new FerryError(Code.NOT_FOUND, `unknown order "${req.orderId}"`);
      return order;
    },
  };
}
