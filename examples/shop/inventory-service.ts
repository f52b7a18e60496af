import { create } from "@bufbuild/protobuf";
import { Code, FerryError, type ServiceImpl } from "../../src/index.js";
import { InventoryService, ProductSchema, type Product } from "./gen/shop/v1/inventory_pb.js";
import type { CatalogItem } from "./catalog.js";

/**
 * Stock per SKU, in memory. Reserve takes units out of the available stock;
 * Release puts them back. NOT_FOUND for an unknown SKU, INVALID_ARGUMENT for
 * a quantity below 1, FAILED_PRECONDITION when stock is short.
 */
export function createInventoryService(catalog: readonly CatalogItem[]): ServiceImpl<typeof InventoryService> {
  const products = new Map<string, Product>(catalog.map((c) => [c.sku, create(ProductSchema, { ...c, priceCents: BigInt(c.priceCents) })]));

  const find = (sku: string): Product => {
    if (sku === "") throw new FerryError(Code.INVALID_ARGUMENT, "sku is required");
    const p = products.get(sku);
    if (p === undefined) throw new FerryError(Code.NOT_FOUND, `unknown SKU "${sku}"`);
    return p;
  };
  const checkQuantity = (quantity: number) => {
    if (quantity < 1) throw new FerryError(Code.INVALID_ARGUMENT, `quantity must be at least 1, got ${quantity}`);
  };

  return {
    listProducts() {
      return { products: [...products.values()] };
    },
    getProduct(req) {
      return find(req.sku);
    },
    reserve(req) {
      const p = find(req.sku);
      checkQuantity(req.quantity);
      if (p.stock < req.quantity) {
        throw new FerryError(Code.FAILED_PRECONDITION, `out of stock: ${req.quantity} × ${p.sku} requested, ${p.stock} left`);
      }
      p.stock -= req.quantity;
      return { product: p };
    },
    release(req) {
      const p = find(req.sku);
      checkQuantity(req.quantity);
      p.stock += req.quantity;
      return { product: p };
    },
  };
}
