/**
 * Checkout as a saga (docs/consistency.md): charge the payment, place the order and its
 * `shop.order.placed` event in one database transaction (the outbox), then
 * empty the cart. When the charge fails for good, the compensations refund
 * whatever was charged and release the cart's stock, publishing
 * `shop.payment.failed` through the outbox. A crashed checkout is resumed by
 * the saga runner from its last persisted step; every call carries the
 * step's idempotency key, so a rerun step charges, refunds and releases once.
 */
import { createHash } from "node:crypto";
import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { createOutbox, defineSaga, type SagaDefinition, type SqlStore, type SqlTransaction } from "../../src/consistency/index.js";
import { Code, FerryError, type Client } from "../../src/index.js";
import { orderPlaced, paymentFailed } from "./events.js";
import { CartLineSchema, type CartLine, type CartService } from "./gen/shop/v1/cart_pb.js";
import { OrderSchema, OrderStatus, type Order } from "./gen/shop/v1/order_pb.js";
import type { PaymentService } from "./gen/shop/v1/payment_pb.js";

/** What a checkout saga is started with (JSON: amounts as strings). */
export interface CheckoutInput {
  readonly orderId: string;
  readonly userId: string;
  readonly lines: JsonValue[];
  readonly totalCents: string;
}

/** The services and database a checkout saga uses. */
export interface CheckoutSagaDeps {
  readonly store: SqlStore;
  readonly cart: Client<typeof CartService>;
  readonly payment: Client<typeof PaymentService>;
}

/** The checkout saga `shop.checkout`. */
export function defineCheckoutSaga(deps: CheckoutSagaDeps): SagaDefinition<CheckoutInput> {
  const { store, cart, payment } = deps;
  const outbox = createOutbox({ schema: store.schema });
  return defineSaga<CheckoutInput>("shop.checkout", {
    stepTimeoutMs: 10_000,
    steps: [
      {
        // The stock was reserved when the items were added to the cart; this step only gives it a compensation.
        name: "hold-stock",
        action: async () => null,
        compensation: async (ctx) => {
          const lines = ctx.input.lines.map((l) => fromJson(CartLineSchema, l));
          await cart.clearCart({ userId: ctx.input.userId, releaseStock: true, lines }, { metadata: ctx.metadata, signal: ctx.signal });
          const [code, ...reason] = ctx.failure.split(": ");
          await store.transaction((tx) =>
            publishOnce(tx, store.schema, ctx.idempotencyKey, () =>
              outbox.publish(tx, paymentFailed, {
                userId: ctx.input.userId,
                amountCents: BigInt(ctx.input.totalCents),
                code: Code[code as keyof typeof Code] ?? Code.UNKNOWN,
                reason: reason.join(": "),
                failedAtMs: BigInt(Date.now()),
              }, { messageId: uuidOf(ctx.idempotencyKey), orderingKey: ctx.input.userId }),
            ),
          );
        },
      },
      {
        name: "charge-payment",
        action: async (ctx) => {
          const res = await payment.charge({ userId: ctx.input.userId, amountCents: BigInt(ctx.input.totalCents), idempotencyKey: ctx.idempotencyKey }, { metadata: ctx.metadata, signal: ctx.signal });
          return { paymentId: res.paymentId };
        },
        compensation: async (ctx) => {
          const paymentId = (ctx.result as { paymentId?: string } | undefined)?.paymentId;
          // Without a persisted result the charge failed, or its reply was lost: refund by its idempotency key.
          const req = paymentId !== undefined ? { paymentId } : { chargeIdempotencyKey: ctx.actionKey };
          await payment.refund(req, { metadata: ctx.metadata, signal: ctx.signal }).catch((err: unknown) => {
            const code = FerryError.from(err).code;
            if (code === Code.FAILED_PRECONDITION) return; // already refunded
            if (code === Code.NOT_FOUND && paymentId === undefined) return; // nothing was charged
            throw err;
          });
        },
      },
      {
        name: "place-order",
        action: async (ctx) => {
          const paymentId = (ctx.results["charge-payment"] as { paymentId: string }).paymentId;
          const order = orderOf(ctx.input, paymentId, Date.now());
          await store.transaction(async (tx) => {
            const inserted = await tx.query(
              `INSERT INTO ${store.schema}.shop_orders VALUES ($1, $2, $3::jsonb, $4, $5, $6) ON CONFLICT (order_id) DO NOTHING RETURNING 1`,
              [order.orderId, order.userId, JSON.stringify(ctx.input.lines), ctx.input.totalCents, paymentId, String(order.placedAtMs)],
            );
            if (inserted.length === 0) return; // placed before a crash: the event went with it
            const event = { orderId: order.orderId, userId: order.userId, lines: order.lines, totalCents: order.totalCents, paymentId, placedAtMs: order.placedAtMs };
            await outbox.publish(tx, orderPlaced, event, { messageId: uuidOf(ctx.idempotencyKey), orderingKey: order.userId });
          });
          return { orderId: order.orderId };
        },
      },
      {
        name: "clear-cart",
        action: async (ctx) => {
          const lines = ctx.input.lines.map((l) => fromJson(CartLineSchema, l));
          await cart.clearCart({ userId: ctx.input.userId, releaseStock: false, lines }, { metadata: ctx.metadata, signal: ctx.signal });
          return null;
        },
        retry: { maxAttempts: 10, retryableStatusCodes: [Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.ABORTED, Code.INTERNAL] },
      },
    ],
  });
}

/** The input of a checkout of `lines`. */
export function checkoutInput(orderId: string, userId: string, lines: CartLine[], totalCents: bigint): CheckoutInput {
  return { orderId, userId, lines: lines.map((l) => toJson(CartLineSchema, l)), totalCents: String(totalCents) };
}

interface OrderRow extends Record<string, unknown> {
  order_id: string;
  user_id: string;
  lines: JsonValue[];
  total_cents: string | number;
  payment_id: string;
  placed_at_ms: string | number;
}

/** Reads an order placed by the saga. */
export async function readOrder(store: SqlStore, orderId: string): Promise<Order | undefined> {
  const rows = await store.query<OrderRow>(`SELECT * FROM ${store.schema}.shop_orders WHERE order_id = $1`, [orderId]);
  return rows[0] === undefined ? undefined : toOrder(rows[0]);
}

/** A user's orders, newest first. */
export async function readOrders(store: SqlStore, userId: string): Promise<Order[]> {
  const rows = await store.query<OrderRow>(`SELECT * FROM ${store.schema}.shop_orders WHERE user_id = $1 ORDER BY placed_at_ms DESC, order_id`, [userId]);
  return rows.map(toOrder);
}

function toOrder(r: OrderRow): Order {
  return create(OrderSchema, {
    orderId: r.order_id,
    userId: r.user_id,
    lines: r.lines.map((l) => fromJson(CartLineSchema, l)),
    totalCents: BigInt(r.total_cents),
    paymentId: r.payment_id,
    status: OrderStatus.PLACED,
    placedAtMs: BigInt(r.placed_at_ms),
  });
}

function orderOf(input: CheckoutInput, paymentId: string, placedAtMs: number): Order {
  return create(OrderSchema, {
    orderId: input.orderId,
    userId: input.userId,
    lines: input.lines.map((l) => fromJson(CartLineSchema, l)),
    totalCents: BigInt(input.totalCents),
    paymentId,
    status: OrderStatus.PLACED,
    placedAtMs: BigInt(placedAtMs),
  });
}

/** Runs `publish` unless the outbox already has the event with `key`'s message id (a compensation run twice). */
async function publishOnce(tx: SqlTransaction, schema: string, key: string, publish: () => Promise<string>): Promise<void> {
  const rows = await tx.query(`SELECT 1 FROM ${schema}.ferry_outbox WHERE id = $1`, [uuidOf(key)]);
  if (rows.length === 0) await publish();
}

/** A name-based UUID (SHA-1, version 5 layout) of an idempotency key: the same key, the same message id. */
export function uuidOf(key: string): string {
  const h = createHash("sha1").update(key).digest("hex");
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
