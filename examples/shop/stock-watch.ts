import { create } from "@bufbuild/protobuf";
import type { CallContext, ServiceImpl } from "../../src/index.js";
import { GetProductRequestSchema, InventoryService, ListProductsRequestSchema, type Product, type StockChange, type WatchStockRequest } from "./gen/shop/v1/inventory_pb.js";

type InventoryImpl = ServiceImpl<typeof InventoryService>;
type StockListener = (sku: string, stock: number) => void;

/** InventoryService.WatchStock for the in-process shop; see {@link createStockWatch}. */
export interface StockWatch {
  /**
   * The inventory `impl` with Reserve and Release reporting each product's
   * new stock to the watchers; every other method passes through.
   */
  observe(impl: Promise<InventoryImpl>): Promise<InventoryImpl>;
  /**
   * The WatchStock handler: the current stock of each watched SKU (every
   * product when `skus` is empty; NOT_FOUND for an unknown SKU), then every
   * change, until the client goes away or the deadline passes. A watcher
   * that reads slower than stock changes gets the latest stock of each SKU
   * (changes are coalesced per SKU, so memory stays bounded).
   */
  watchStock(req: WatchStockRequest, ctx: CallContext): AsyncIterable<Pick<StockChange, "sku" | "stock">>;
}

/**
 * Stock changes of one shop process, for InventoryService.WatchStock over
 * gRPC, Connect, gRPC-Web and the gateway's NDJSON/SSE route. Changes made
 * through this process's Reserve and Release are seen; in the
 * separate-process shop each inventory instance sees its own.
 */
export function createStockWatch(): StockWatch {
  const listeners = new Set<StockListener>();
  let inventory: Promise<InventoryImpl> | undefined;
  const report = (product: Product | undefined) => {
    if (product !== undefined) for (const l of listeners) l(product.sku, product.stock);
  };
  return {
    observe(impl) {
      inventory = impl.then((target) => {
        const out: Record<string, unknown> = {};
        for (const m of InventoryService.methods) {
          const fn = (target as Record<string, ((req: unknown, ctx: CallContext) => unknown) | undefined>)[m.localName];
          if (fn !== undefined) out[m.localName] = (req: unknown, ctx: CallContext) => fn.call(target, req, ctx);
        }
        const changes = (name: "reserve" | "release") => async (req: never, ctx: CallContext) => {
          const res = (await target[name]!(req, ctx)) as { product?: Product };
          report(res.product);
          return res;
        };
        if (target.reserve !== undefined) out.reserve = changes("reserve");
        if (target.release !== undefined) out.release = changes("release");
        return out as InventoryImpl;
      });
      return inventory;
    },
    async *watchStock(req, ctx) {
      const wanted = req.skus.length === 0 ? undefined : new Set(req.skus);
      const pending = new Map<string, number>();
      let wake: (() => void) | undefined;
      const listener: StockListener = (sku, stock) => {
        if (wanted !== undefined && !wanted.has(sku)) return;
        pending.set(sku, stock);
        wake?.();
      };
      const onAbort = () => wake?.();
      listeners.add(listener); // before the snapshot, so no change falls between the two
      ctx.signal.addEventListener("abort", onAbort);
      try {
        for (const p of await snapshot(inventory, wanted, ctx)) if (!pending.has(p.sku)) yield { sku: p.sku, stock: p.stock };
        while (!ctx.signal.aborted) {
          if (pending.size === 0) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          for (const [sku, stock] of pending) {
            pending.delete(sku);
            yield { sku, stock };
          }
        }
      } finally {
        listeners.delete(listener);
        ctx.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}

async function snapshot(inventory: Promise<InventoryImpl> | undefined, wanted: ReadonlySet<string> | undefined, ctx: CallContext): Promise<Product[]> {
  const impl = await inventory;
  if (impl === undefined) return [];
  if (wanted === undefined) return (await impl.listProducts!(create(ListProductsRequestSchema), ctx)).products as Product[];
  return Promise.all([...wanted].map(async (sku) => (await impl.getProduct!(create(GetProductRequestSchema, { sku }), ctx)) as Product));
}
