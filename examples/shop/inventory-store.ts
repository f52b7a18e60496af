import { Code, FerryError } from "../../src/index.js";
import type { CatalogItem } from "./catalog.js";

/** A product's current state. */
export interface StockedProduct {
  sku: string;
  name: string;
  priceCents: number;
  stock: number;
}

/**
 * Where the inventory keeps stock. `memory` for one process; `redis` when
 * several inventory instances must share it (the separate-process shop).
 * `reserve` and `release` are atomic per SKU. NOT_FOUND for an unknown SKU,
 * FAILED_PRECONDITION when stock is short.
 */
export interface InventoryStore {
  list(): Promise<StockedProduct[]>;
  get(sku: string): Promise<StockedProduct>;
  reserve(sku: string, quantity: number): Promise<StockedProduct>;
  release(sku: string, quantity: number): Promise<StockedProduct>;
  close(): Promise<void>;
}

export function unknownSku(sku: string): FerryError {
  return new FerryError(Code.NOT_FOUND, `unknown SKU "${sku}"`);
}

export function outOfStock(sku: string, requested: number, left: number): FerryError {
  return new FerryError(Code.FAILED_PRECONDITION, `out of stock: ${requested} × ${sku} requested, ${left} left`);
}

/** An in-process store seeded from `catalog`. */
export function createMemoryInventoryStore(catalog: readonly CatalogItem[]): InventoryStore {
  const products = new Map(catalog.map((c) => [c.sku, { ...c }]));
  const find = (sku: string) => {
    const p = products.get(sku);
    if (p === undefined) throw unknownSku(sku);
    return p;
  };
  return {
    list: async () => [...products.values()].map((p) => ({ ...p })),
    get: async (sku) => ({ ...find(sku) }),
    async reserve(sku, quantity) {
      const p = find(sku);
      if (p.stock < quantity) throw outOfStock(sku, quantity, p.stock);
      p.stock -= quantity;
      return { ...p };
    },
    async release(sku, quantity) {
      const p = find(sku);
      p.stock += quantity;
      return { ...p };
    },
    close: async () => undefined,
  };
}
