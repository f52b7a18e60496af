/**
 * The shop in a process of its own for the kill/restart test: every service
 * in this process, state in PostgreSQL (schema `schema`), events on the NATS
 * server at `broker`, payments failing at `paymentFailureRate`. Sends
 * `{ grpcUrl }` over IPC once serving with its store open and recovery
 * started; the test then kills it with SIGKILL (no cleanup, no flush).
 * Usage: node --import tsx shop-child.ts '<json: { store, schema, broker, paymentFailureRate }>'
 */
import { startShop } from "../../examples/shop/shop.js";
import { childArgs } from "./child-support.js";
import { quietLogger } from "./test-stores.js";

const args = childArgs<{ store: string; schema: string; broker: string; paymentFailureRate: number }>();
const shop = await startShop({
  grpcPort: 0,
  httpPort: 0,
  store: args.store,
  storeSchema: args.schema,
  broker: args.broker,
  paymentFailureRate: args.paymentFailureRate,
  logger: quietLogger,
  auth: false, // the crash tests call the API without tokens
});
process.send?.({ grpcUrl: shop.grpcUrl });
process.on("disconnect", () => void shop.close(0).then(() => process.exit(0)));
