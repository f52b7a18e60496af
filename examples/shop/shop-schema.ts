import type { SqlStore } from "../../src/consistency/index.js";
import type { CatalogItem } from "./catalog.js";

/**
 * The shop's tables, next to Ferry's in the store's schema. Each service
 * owns its tables (in a real deployment, its own database): inventory
 * `shop_products` and `shop_stock_changes` (reservation and release ids
 * already applied), payment `shop_payments`, cart `shop_cart_lines`,
 * `shop_cart_pending` (reservations asked for, not yet in the cart) and
 * `shop_cart_changes` (idempotency keys of applied ClearCarts), order
 * `shop_orders`, notification `shop_notifications`, analytics `shop_sales`
 * and `shop_analytics`.
 */
function statements(s: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.shop_products (
      sku text PRIMARY KEY, name text NOT NULL, price_cents bigint NOT NULL, stock integer NOT NULL CHECK (stock >= 0),
      position integer NOT NULL DEFAULT 0)`,
    `CREATE TABLE IF NOT EXISTS ${s}.shop_stock_changes (
      change_id text PRIMARY KEY, sku text NOT NULL, delta integer NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.shop_payments (
      payment_id text PRIMARY KEY, idempotency_key text UNIQUE, user_id text NOT NULL, amount_cents bigint NOT NULL,
      refunded boolean NOT NULL DEFAULT false, charged_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.shop_cart_lines (
      user_id text NOT NULL, sku text NOT NULL, line_id text NOT NULL, name text NOT NULL, quantity integer NOT NULL,
      unit_price_cents bigint NOT NULL, added_seq bigint GENERATED ALWAYS AS IDENTITY, PRIMARY KEY (user_id, sku))`,
    `CREATE TABLE IF NOT EXISTS ${s}.shop_cart_pending (
      reservation_id text PRIMARY KEY, user_id text NOT NULL, sku text NOT NULL, quantity integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.shop_cart_changes (change_id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.shop_orders (
      order_id text PRIMARY KEY, user_id text NOT NULL, lines jsonb NOT NULL, total_cents bigint NOT NULL,
      payment_id text NOT NULL, placed_at_ms bigint NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${s}.shop_notifications (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id text NOT NULL, kind text NOT NULL, order_id text NOT NULL,
      text text NOT NULL, created_at_ms bigint NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS shop_notifications_user ON ${s}.shop_notifications (user_id, seq)`,
    `CREATE TABLE IF NOT EXISTS ${s}.shop_sales (
      sku text PRIMARY KEY, name text NOT NULL, units_sold bigint NOT NULL DEFAULT 0, revenue_cents bigint NOT NULL DEFAULT 0)`,
    `CREATE TABLE IF NOT EXISTS ${s}.shop_analytics (id integer PRIMARY KEY CHECK (id = 1), orders_counted bigint NOT NULL)`,
    `INSERT INTO ${s}.shop_analytics VALUES (1, 0) ON CONFLICT DO NOTHING`,
  ];
}

/**
 * Creates the shop's tables in the store's schema if missing and seeds the
 * catalog's products (a product already there keeps its stock), in one
 * transaction under an advisory lock, so processes starting at once do it once.
 */
export async function createShopTables(store: SqlStore, catalog: readonly CatalogItem[]): Promise<void> {
  const s = store.schema;
  await store.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`shop_tables:${s}`]);
    for (const statement of statements(s)) await tx.query(statement);
    for (const [i, p] of catalog.entries()) {
      await tx.query(`INSERT INTO ${s}.shop_products VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sku) DO NOTHING`, [p.sku, p.name, p.priceCents, p.stock, i]);
    }
  });
}
