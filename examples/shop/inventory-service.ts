import { create } from "@bufbuild/protobuf";
import { Code, FerryError, type ServiceImpl } from "../../src/index.js";
import { InventoryService, ProductSchema, type Product } from "./gen/shop/v1/inventory_pb.js";
import type { InventoryStore, StockedProduct } from "./inventory-store.js";

const toProduct = (p: StockedProduct): Product => create(ProductSchema, { ...p, priceCents: BigInt(p.priceCents) });

/**
 * Stock per SKU, kept in an {@link InventoryStore}. Reserve takes units out
 * of the available stock; Release puts them back. NOT_FOUND for an unknown
 * SKU, INVALID_ARGUMENT for an empty SKU or a quantity below 1,
 * FAILED_PRECONDITION when stock is short. A Reserve with a
 * `reservation_id` seen before takes no more stock, a Release with a
 * `release_id` seen before puts none back (safe to retry; remembered by the
 * SQL and Redis stores, reservations only by the memory one).
 */
export function createInventoryService(store: InventoryStore): ServiceImpl<typeof InventoryService> {
  const check = (sku: string, quantity?: number) => {
    if (sku === "") throw new FerryError(Code.INVALID_ARGUMENT, "sku is required");
    if (quantity !== undefined && quantity < 1) throw new FerryError(Code.INVALID_ARGUMENT, `quantity must be at least 1, got ${quantity}`);
  };
  return {
    async listProducts() {
      return { products: (await store.list()).map(toProduct) };
    },
    async getProduct(req) {
      check(req.sku);
      return toProduct(await store.get(req.sku));
    },
    async reserve(req) {
      check(req.sku, req.quantity);
      return { product: toProduct(await store.reserve(req.sku, req.quantity, req.reservationId || undefined)) };
    },
    async release(req) {
      check(req.sku, req.quantity);
      return { product: toProduct(await store.release(req.sku, req.quantity, req.releaseId || undefined)) };
    },
  };
}
