import type { CatalogItem } from "./catalog.js";
import { outOfStock, unknownSku, type InventoryStore, type StockedProduct } from "./inventory-store.js";

/** Options of {@link createRedisInventoryStore}. */
export interface RedisInventoryStoreOptions {
  /** `redis://host:port`. */
  url: string;
  /** Prefix of every key, so several shops can share one Redis. Default `"ferry-shop"`. */
  keyPrefix?: string;
  /** Seeded into Redis once (a SKU already present keeps its stock). */
  catalog: readonly CatalogItem[];
}

/** How long Redis remembers a reservation id, in seconds. */
const RESERVATION_TTL_S = 86_400;

// KEYS[1] = product hash, KEYS[2] = reservation id key or ""; ARGV[1] = delta (negative to
// reserve), ARGV[2] = TTL of the reservation key in seconds. Returns the new stock, -1 for an
// unknown SKU, -2 - stock when the stock would go below zero, or the current stock untouched
// when KEYS[2] was seen before (a retried Reserve).
const adjustScript = `
local stock = redis.call('HGET', KEYS[1], 'stock')
if not stock then return -1 end
if KEYS[2] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then return tonumber(stock) end
local next = tonumber(stock) + tonumber(ARGV[1])
if next < 0 then return -2 - tonumber(stock) end
redis.call('HSET', KEYS[1], 'stock', next)
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[2])) end
return next`;

/**
 * Stock in Redis hashes (`<prefix>:product:<sku>`), shared by every inventory
 * instance; reserve and release run as one Lua script each, so they are
 * atomic across instances, and a reservation id is remembered for a day
 * (`<prefix>:reservation:<id>`, release ids as `release:<id>`) so a retried
 * Reserve takes stock once and a retried Release puts it back once.
 * Loads ioredis on first use.
 */
export async function createRedisInventoryStore(options: RedisInventoryStoreOptions): Promise<InventoryStore> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  const prefix = options.keyPrefix ?? "ferry-shop";
  const key = (sku: string) => `${prefix}:product:${sku}`;
  const skus = options.catalog.map((c) => c.sku);
  for (const c of options.catalog) {
    await redis.hsetnx(key(c.sku), "stock", String(c.stock));
    await redis.hset(key(c.sku), "name", c.name, "priceCents", String(c.priceCents));
  }
  const read = async (sku: string): Promise<StockedProduct> => {
    const h = await redis.hgetall(key(sku));
    if (h.stock === undefined) throw unknownSku(sku);
    return { sku, name: h.name, priceCents: Number(h.priceCents), stock: Number(h.stock) };
  };
  const adjust = async (sku: string, delta: number, requested: number, reservationId?: string): Promise<StockedProduct> => {
    const reservationKey = reservationId ? `${prefix}:reservation:${reservationId}` : "";
    const result = Number(await redis.eval(adjustScript, 2, key(sku), reservationKey, String(delta), String(RESERVATION_TTL_S)));
    if (result === -1) throw unknownSku(sku);
    if (result < -1) throw outOfStock(sku, requested, -2 - result);
    return read(sku);
  };
  return {
    list: () => Promise.all(skus.map(read)),
    get: read,
    reserve: (sku, quantity, reservationId) => adjust(sku, -quantity, quantity, reservationId),
    release: (sku, quantity, releaseId) => adjust(sku, quantity, quantity, releaseId === undefined ? undefined : `release:${releaseId}`),
    async close() {
      await redis.quit();
    },
  };
}
