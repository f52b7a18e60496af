import type { SqlExecutor, SqlStore } from "../../src/consistency/index.js";
import { outOfStock, unknownSku, type InventoryStore, type StockedProduct } from "./inventory-store.js";

interface ProductRow extends Record<string, unknown> {
  sku: string;
  name: string;
  price_cents: string | number;
  stock: number;
}

const toProduct = (r: ProductRow): StockedProduct => ({ sku: r.sku, name: r.name, priceCents: Number(r.price_cents), stock: Number(r.stock) });

/**
 * Stock in the store's `shop_products` (created and seeded by
 * createShopTables). Reserve and Release are one transaction each: the
 * change's id (`reservation_id`, `release_id`) is recorded in
 * `shop_stock_changes` with the stock update, so a repeated id changes
 * nothing — across restarts and concurrent callers (the id's primary key
 * makes the second wait for the first).
 */
export function createSqlInventoryStore(store: SqlStore): InventoryStore {
  const s = store.schema;
  const read = async (db: SqlExecutor, sku: string): Promise<StockedProduct> => {
    const rows = await db.query<ProductRow>(`SELECT sku, name, price_cents, stock FROM ${s}.shop_products WHERE sku = $1`, [sku]);
    if (rows[0] === undefined) throw unknownSku(sku);
    return toProduct(rows[0]);
  };
  const adjust = (sku: string, delta: number, changeId: string | undefined): Promise<StockedProduct> =>
    store.transaction(async (tx) => {
      if (changeId !== undefined) {
        const fresh = await tx.query(`INSERT INTO ${s}.shop_stock_changes (change_id, sku, delta) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`, [changeId, sku, delta]);
        if (fresh.length === 0) return read(tx, sku); // applied before
      }
      const rows = await tx.query<ProductRow>(`UPDATE ${s}.shop_products SET stock = stock + $2 WHERE sku = $1 AND stock + $2 >= 0 RETURNING *`, [sku, delta]);
      if (rows[0] !== undefined) return toProduct(rows[0]);
      const current = await read(tx, sku); // NOT_FOUND for an unknown SKU
      throw outOfStock(sku, -delta, current.stock); // rolls the change id back too
    });
  return {
    list: async () => (await store.query<ProductRow>(`SELECT * FROM ${s}.shop_products ORDER BY position, sku`)).map(toProduct),
    get: (sku) => read(store, sku),
    reserve: (sku, quantity, reservationId) => adjust(sku, -quantity, reservationId === undefined ? undefined : `reserve:${reservationId}`),
    release: (sku, quantity, releaseId) => adjust(sku, quantity, releaseId === undefined ? undefined : `release:${releaseId}`),
    close: async () => undefined,
  };
}
