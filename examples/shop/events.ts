import { defineTopic, type Broker } from "../../src/messaging/index.js";
import type { Logger } from "../../src/index.js";
import { CartItemAddedSchema, OrderPlacedSchema, PaymentFailedSchema } from "./gen/shop/v1/events_pb.js";

/** Stock was reserved into a cart. */
export const cartItemAdded = defineTopic("shop.cart.item_added", CartItemAddedSchema);
/** A checkout placed an order. */
export const orderPlaced = defineTopic("shop.order.placed", OrderPlacedSchema);
/** A checkout's payment failed (its stock was released). */
export const paymentFailed = defineTopic("shop.payment.failed", PaymentFailedSchema);

/**
 * How long the shop's consumers have to ack a delivery before the broker
 * redelivers it, in ms: their handlers take milliseconds, so a delivery to a
 * process that died comes back after 5 s instead of the default 30 s (the
 * inbox makes an early redelivery harmless).
 */
export const SHOP_ACK_TIMEOUT_MS = 5_000;

/**
 * How services publish events: the broker and a logger for publish failures.
 * A failed publish is logged and does not fail the RPC that caused it (the
 * state change already happened). The in-process shop closes that gap with
 * the transactional outbox (docs/consistency.md); the separate-process shop
 * (examples/shop/cluster) still publishes this way.
 */
export interface EventPublisher {
  readonly broker: Broker;
  readonly logger: Logger;
}

/** Publishes, logging instead of throwing. Resolves once the broker stored the event or the failure was logged. */
export async function publishEvent<T extends Parameters<Broker["publish"]>[0]>(
  events: EventPublisher | undefined,
  topic: T,
  message: Parameters<Broker["publish"]>[1],
  orderingKey?: string,
): Promise<void> {
  if (events === undefined) return;
  try {
    await events.broker.publish(topic, message as never, { orderingKey });
  } catch (err) {
    events.logger.warn({ err, topic: topic.name }, "event not published");
  }
}
