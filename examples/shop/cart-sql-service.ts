import { randomUUID } from "node:crypto";
import { createOutbox, IDEMPOTENCY_KEY_HEADER, type SqlExecutor, type SqlStore } from "../../src/consistency/index.js";
import { Code, FerryError, type Client, type ServiceImpl } from "../../src/index.js";
import { cartItemAdded } from "./events.js";
import type { Cart, CartLine, CartService } from "./gen/shop/v1/cart_pb.js";
import type { InventoryService } from "./gen/shop/v1/inventory_pb.js";

interface LineRow extends Record<string, unknown> {
  sku: string;
  line_id: string;
  name: string;
  quantity: number;
  unit_price_cents: string | number;
}

interface PendingRow extends Record<string, unknown> {
  reservation_id: string;
  user_id: string;
  sku: string;
  quantity: number;
}

/** Errors after which a Reserve surely took no stock. */
const definite = new Set([Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.FAILED_PRECONDITION, Code.OUT_OF_RANGE]);

/** The cart service on the store, plus its recovery. */
export interface SqlCartService {
  readonly impl: ServiceImpl<typeof CartService>;
  /**
   * Finishes the AddItems a crash interrupted: each reservation recorded in
   * `shop_cart_pending` is asked for again with its id (Reserve is idempotent)
   * and put into the cart, or dropped when the stock is short. Run it at
   * start, before serving. Resolves with how many it finished.
   */
  recover(): Promise<number>;
}

/**
 * One cart per user in the store (`shop_cart_lines`). AddItem records the
 * reservation it is about to ask for (`shop_cart_pending`), reserves the
 * stock through the inventory service with that id, then moves it into the
 * cart together with its `shop.cart.item_added` event (transactional outbox):
 * a crash in between leaves a pending reservation that {@link SqlCartService.recover}
 * completes, so stock is never taken without being in a cart. Releases carry
 * the line's id as `release_id`, so a ClearCart or RemoveItem repeated after a
 * crash puts the stock back once. A ClearCart of given `lines` (a checkout's)
 * takes only those out, once per idempotency key (request metadata
 * `idempotency-key`, as the saga sends it). INVALID_ARGUMENT for an empty user id;
 * NOT_FOUND from RemoveItem for a SKU not in the cart; the inventory's errors pass through.
 */
export function createSqlCartService(store: SqlStore, inventory: Client<typeof InventoryService>): SqlCartService {
  const s = store.schema;
  const outbox = createOutbox({ schema: s });
  const lines = (db: SqlExecutor, userId: string) =>
    db.query<LineRow>(`SELECT sku, line_id, name, quantity, unit_price_cents FROM ${s}.shop_cart_lines WHERE user_id = $1 ORDER BY added_seq`, [userId]);
  const view = (userId: string, rows: LineRow[]): Cart => {
    let total = 0n;
    const out = rows.map((l) => {
      const unit = BigInt(l.unit_price_cents);
      const lineTotal = unit * BigInt(l.quantity);
      total += lineTotal;
      return { $typeName: "shop.v1.CartLine" as const, sku: l.sku, name: l.name, quantity: l.quantity, unitPriceCents: unit, lineTotalCents: lineTotal };
    });
    return { $typeName: "shop.v1.Cart", userId, lines: out, totalCents: total };
  };
  const user = (userId: string) => {
    if (userId === "") throw new FerryError(Code.INVALID_ARGUMENT, "user_id is required");
    return userId;
  };

  /** Reserves a pending reservation and moves it into the cart; false when the stock was short. */
  const complete = async (p: PendingRow): Promise<boolean> => {
    let product;
    try {
      ({ product } = await inventory.reserve({ sku: p.sku, quantity: p.quantity, reservationId: p.reservation_id }));
    } catch (err) {
      if (definite.has(FerryError.from(err).code)) await store.query(`DELETE FROM ${s}.shop_cart_pending WHERE reservation_id = $1`, [p.reservation_id]);
      throw err;
    }
    const unitPriceCents = product?.priceCents ?? 0n;
    await store.transaction(async (tx) => {
      const mine = await tx.query(`DELETE FROM ${s}.shop_cart_pending WHERE reservation_id = $1 RETURNING 1`, [p.reservation_id]);
      if (mine.length === 0) return; // finished by recovery meanwhile
      await tx.query(
        `INSERT INTO ${s}.shop_cart_lines (user_id, sku, line_id, name, quantity, unit_price_cents) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, sku) DO UPDATE SET quantity = shop_cart_lines.quantity + EXCLUDED.quantity`,
        [p.user_id, p.sku, randomUUID(), product?.name ?? p.sku, p.quantity, String(unitPriceCents)],
      );
      const event = { userId: p.user_id, sku: p.sku, quantity: p.quantity, unitPriceCents, addedAtMs: BigInt(Date.now()) };
      await outbox.publish(tx, cartItemAdded, event, { orderingKey: p.user_id });
    });
    return true;
  };

  /** Puts a line's stock back (once, by its line id) and removes exactly that line. */
  const release = async (userId: string, l: LineRow) => {
    await inventory.release({ sku: l.sku, quantity: l.quantity, releaseId: l.line_id });
    await store.query(`DELETE FROM ${s}.shop_cart_lines WHERE user_id = $1 AND line_id = $2`, [userId, l.line_id]);
  };

  /** Takes `wanted` out of the cart (and puts its stock back), once per `key` and SKU. */
  const removeLines = async (userId: string, wanted: readonly CartLine[], releaseStock: boolean, key: string) => {
    for (const l of wanted) {
      const changeId = `${key}:${l.sku}`;
      if (releaseStock) await inventory.release({ sku: l.sku, quantity: l.quantity, releaseId: changeId });
      await store.transaction(async (tx) => {
        const fresh = await tx.query(`INSERT INTO ${s}.shop_cart_changes (change_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1`, [changeId]);
        if (fresh.length === 0) return; // done before a crash
        await tx.query(`UPDATE ${s}.shop_cart_lines SET quantity = quantity - $3 WHERE user_id = $1 AND sku = $2`, [userId, l.sku, l.quantity]);
        await tx.query(`DELETE FROM ${s}.shop_cart_lines WHERE user_id = $1 AND sku = $2 AND quantity <= 0`, [userId, l.sku]);
      });
    }
  };

  const impl: ServiceImpl<typeof CartService> = {
    async addItem(req) {
      const pending: PendingRow = { reservation_id: randomUUID(), user_id: user(req.userId), sku: req.sku, quantity: req.quantity };
      await store.query(`INSERT INTO ${s}.shop_cart_pending (reservation_id, user_id, sku, quantity) VALUES ($1, $2, $3, $4)`, [
        pending.reservation_id, pending.user_id, pending.sku, pending.quantity,
      ]);
      await complete(pending);
      return view(req.userId, await lines(store, req.userId));
    },
    async removeItem(req) {
      const line = (await lines(store, user(req.userId))).find((l) => l.sku === req.sku);
      if (line === undefined) throw new FerryError(Code.NOT_FOUND, `SKU "${req.sku}" is not in the cart of ${req.userId}`);
      await release(req.userId, line);
      return view(req.userId, await lines(store, req.userId));
    },
    async getCart(req) {
      return view(req.userId, await lines(store, user(req.userId)));
    },
    async clearCart(req, ctx) {
      const rows = await lines(store, user(req.userId));
      if (req.lines.length > 0) {
        const key = ctx.requestMetadata.get(IDEMPOTENCY_KEY_HEADER);
        await removeLines(req.userId, req.lines, req.releaseStock, typeof key === "string" && key !== "" ? key : randomUUID());
        return view(req.userId, rows);
      }
      for (const l of rows) {
        if (req.releaseStock) await release(req.userId, l);
        else await store.query(`DELETE FROM ${s}.shop_cart_lines WHERE user_id = $1 AND line_id = $2`, [req.userId, l.line_id]);
      }
      return view(req.userId, rows);
    },
  };
  return {
    impl,
    async recover() {
      let done = 0;
      for (const p of await store.query<PendingRow>(`SELECT reservation_id, user_id, sku, quantity FROM ${s}.shop_cart_pending ORDER BY created_at`)) {
        if (await complete(p).catch(() => false)) done++;
      }
      return done;
    },
  };
}
