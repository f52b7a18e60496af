import { randomUUID } from "node:crypto";
import { Code, FerryError, type Client, type ServiceImpl } from "../../src/index.js";
import type { Cart, CartLine, CartService } from "./gen/shop/v1/cart_pb.js";
import type { InventoryService } from "./gen/shop/v1/inventory_pb.js";
import { cartItemAdded, publishEvent, type EventPublisher } from "./events.js";

interface Line {
  sku: string;
  name: string;
  quantity: number;
  unitPriceCents: bigint;
}

/**
 * One cart per user, in memory. AddItem reserves stock through the
 * inventory service (its errors pass through: NOT_FOUND, FAILED_PRECONDITION);
 * RemoveItem releases it (NOT_FOUND when the SKU is not in the cart).
 * INVALID_ARGUMENT for an empty user id. With `events`, AddItem publishes
 * `shop.cart.item_added` (ordering key: the user id).
 */
export function createCartService(inventory: Client<typeof InventoryService>, events?: EventPublisher): ServiceImpl<typeof CartService> {
  const carts = new Map<string, Map<string, Line>>();

  const linesOf = (userId: string): Map<string, Line> => {
    if (userId === "") throw new FerryError(Code.INVALID_ARGUMENT, "user_id is required");
    let lines = carts.get(userId);
    if (lines === undefined) carts.set(userId, (lines = new Map()));
    return lines;
  };

  const view = (userId: string, lines: Map<string, Line>): Cart => {
    const out: CartLine[] = [];
    let total = 0n;
    for (const l of lines.values()) {
      const lineTotal = l.unitPriceCents * BigInt(l.quantity);
      total += lineTotal;
      out.push({ $typeName: "shop.v1.CartLine", sku: l.sku, name: l.name, quantity: l.quantity, unitPriceCents: l.unitPriceCents, lineTotalCents: lineTotal });
    }
    return { $typeName: "shop.v1.Cart", userId, lines: out, totalCents: total };
  };

  return {
    async addItem(req) {
      const lines = linesOf(req.userId);
      // The reservation id makes a retried Reserve (after a lost reply) take the stock once.
      const { product } = await inventory.reserve({ sku: req.sku, quantity: req.quantity, reservationId: randomUUID() });
      const line = lines.get(req.sku);
      if (line) line.quantity += req.quantity;
      else lines.set(req.sku, { sku: req.sku, name: product?.name ?? req.sku, quantity: req.quantity, unitPriceCents: product?.priceCents ?? 0n });
      await publishEvent(events, cartItemAdded, {
        userId: req.userId,
        sku: req.sku,
        quantity: req.quantity,
        unitPriceCents: product?.priceCents ?? 0n,
        addedAtMs: BigInt(Date.now()),
      }, req.userId);
      return view(req.userId, lines);
    },
    async removeItem(req) {
      const lines = linesOf(req.userId);
      const line = lines.get(req.sku);
      if (line === undefined) throw new FerryError(Code.NOT_FOUND, `SKU "${req.sku}" is not in the cart of ${req.userId}`);
      await inventory.release({ sku: req.sku, quantity: line.quantity });
      lines.delete(req.sku);
      return view(req.userId, lines);
    },
    getCart(req) {
      return view(req.userId, linesOf(req.userId));
    },
    async clearCart(req) {
      const lines = linesOf(req.userId);
      const cart = view(req.userId, lines);
      if (req.releaseStock) {
        for (const l of [...lines.values()]) {
          await inventory.release({ sku: l.sku, quantity: l.quantity });
          lines.delete(l.sku);
        }
      }
      lines.clear();
      return cart;
    },
  };
}
