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
 * Where the inventory keeps stock. `memory` for one process; `sql` (the
 * store: PGlite or PostgreSQL, inventory-sql-store.ts) for the in-process
 * shop; `redis` when several inventory instances must share it (the
 * separate-process shop).
 * `reserve` and `release` are atomic per SKU. NOT_FOUND for an unknown SKU,
 * FAILED_PRECONDITION when stock is short.
 */
export interface InventoryStore {
  list(): Promise<StockedProduct[]>;
  get(sku: string): Promise<StockedProduct>;
  /** `reservationId`, when given, makes the call idempotent: a repeat takes no more stock. */
  reserve(sku: string, quantity: number, reservationId?: string): Promise<StockedProduct>;
  /** `releaseId`, when given, makes the call idempotent: a repeat puts no more stock back (stores that remember ids). */
  release(sku: string, quantity: number, releaseId?: string): Promise<StockedProduct>;
  close(): Promise<void>;
}

export function unknownSku(sku: string): FerryError {
  return new FerryError(Code.NOT_FOUND, `unknown SKU "${sku}"`);
}

export function outOfStock(sku: string, requested: number, left: number): FerryError {
  return new FerryError(Code.FAILED_PRECONDITION, `out of stock: ${requested} × ${sku} requested, ${left} left`);
}

/** Reservation and release ids the memory store remembers for de-duplication (oldest forgotten first). */
const MAX_REMEMBERED_RESERVATIONS = 100_000;

/** An in-process store seeded from `catalog`. */
export function createMemoryInventoryStore(catalog: readonly CatalogItem[]): InventoryStore {
  const products = new Map(catalog.map((c) => [c.sku, { ...c }]));
  const reservations = new Set<string>();
  const remember = (id: string) => {
    reservations.add(id);
    if (reservations.size > MAX_REMEMBERED_RESERVATIONS) reservations.delete(reservations.values().next().value as string);
  };
  const find = (sku: string) => {
    const p = products.get(sku);
    if (p === undefined) throw unknownSku(sku);
    return p;
  };
  return {
    list: async () => [...products.values()].map((p) => ({ ...p })),
    get: async (sku) => ({ ...find(sku) }),
    async reserve(sku, quantity, reservationId) {
      const p = find(sku);
      if (reservationId && reservations.has(reservationId)) return { ...p };
      if (p.stock < quantity) throw outOfStock(sku, quantity, p.stock);
      p.stock -= quantity;
      if (reservationId) remember(reservationId);
      return { ...p };
    },
    async release(sku, quantity, releaseId) {
      const p = find(sku);
      const key = releaseId === undefined ? undefined : `release:${releaseId}`;
      if (key !== undefined && reservations.has(key)) return { ...p };
      p.stock += quantity;
      if (key !== undefined) remember(key);
      return { ...p };
    },
    close: async () => undefined,
  };
}
