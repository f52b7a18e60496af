import { createOutboxRelay, createSagaRunner, createStore, type OutboxRelay, type SagaRunner, type SqlStore } from "../../src/consistency/index.js";
import type { Broker } from "../../src/messaging/index.js";
import type { Client, Logger, ServiceImpl } from "../../src/index.js";
import { createOrdersTable, defineCheckoutSaga } from "./checkout-saga.js";
import type { CartService } from "./gen/shop/v1/cart_pb.js";
import type { OrderService } from "./gen/shop/v1/order_pb.js";
import type { PaymentService } from "./gen/shop/v1/payment_pb.js";
import { createSagaOrderService } from "./saga-order-service.js";

/** The shop's consistency machinery: store, outbox relay, saga runner and the saga-backed order service. */
export interface ShopConsistency {
  readonly store: SqlStore;
  readonly relay: OutboxRelay;
  readonly runner: SagaRunner;
  readonly orders: ServiceImpl<typeof OrderService>;
  /** Resumes checkouts in flight when the shop last stopped, and starts the relay. */
  start(): Promise<void>;
  /** Stops the runner and the relay, then closes the store. */
  close(): Promise<void>;
}

/**
 * Opens the store at `url` (`pglite:`, `pglite://DIR`, `postgres://…`) and
 * builds the checkout saga, its runner (id `shop`, so a restarted shop
 * resumes its checkouts at once) and the outbox relay to `broker`.
 */
export async function createShopConsistency(
  url: string,
  deps: { cart: Client<typeof CartService>; payment: Client<typeof PaymentService>; broker: Broker; logger: Logger },
): Promise<ShopConsistency> {
  const store = await createStore(url, { logger: deps.logger });
  await createOrdersTable(store);
  const saga = defineCheckoutSaga({ store, cart: deps.cart, payment: deps.payment });
  const runner = createSagaRunner({ store, sagas: [saga], runnerId: "shop", logger: deps.logger });
  const relay = createOutboxRelay({ store, broker: deps.broker, logger: deps.logger });
  return {
    store,
    relay,
    runner,
    orders: createSagaOrderService({ store, cart: deps.cart, runner, saga }),
    async start() {
      await relay.start();
      await runner.start();
    },
    async close() {
      await runner.stop();
      await relay.stop();
      await store.close();
    },
  };
}
