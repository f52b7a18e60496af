import { createOutboxRelay, createStore, type OutboxRelay, type SqlStore } from "../../../src/consistency/index.js";
import type { ServiceContext } from "../../../src/topology/index.js";
import { seedCatalog } from "../catalog.js";
import { createShopTables } from "../shop-schema.js";

/** The store one process group's shop services share, and its outbox relay. */
export interface ShopStore {
  readonly store: SqlStore;
  readonly relay: OutboxRelay;
  /** Releases this service's use; the last one stops the relay and closes the store. */
  release(): Promise<void>;
}

interface Shared {
  opening: Promise<{ store: SqlStore; relay: OutboxRelay }>;
  users: number;
}

const open = new Map<string, Shared>();

/** `?schema=NAME` of the store URL (the shop's tables and Ferry's go there), and the URL without it. */
function splitSchema(url: string): { url: string; schema: string | undefined } {
  if (!URL.canParse(url) || url.startsWith("pglite:")) return { url, schema: undefined };
  const u = new URL(url);
  const schema = u.searchParams.get("schema") ?? undefined;
  u.searchParams.delete("schema");
  return { url: u.href, schema };
}

/**
 * The store of the topology's `store` URL (default `pglite:`, in memory),
 * opened once per process group: the shop's tables created (once, under an
 * advisory lock, when processes share a PostgreSQL database), and one outbox
 * relay publishing the events the group's services commit. `?schema=NAME`
 * keeps one shop's tables apart from another's in a shared database.
 */
export async function shopStore(ctx: ServiceContext<unknown>): Promise<ShopStore> {
  const key = `${ctx.topology}/${ctx.group}`;
  let shared = open.get(key);
  if (shared === undefined) {
    const { url, schema } = splitSchema(ctx.storeUrl ?? "pglite:");
    const opening = (async () => {
      const store = await createStore(url, { logger: ctx.logger, schema });
      await createShopTables(store, seedCatalog);
      const relay = createOutboxRelay({ store, broker: await ctx.broker(), logger: ctx.logger });
      await relay.start();
      return { store, relay };
    })();
    shared = { opening, users: 0 };
    open.set(key, shared);
    opening.catch(() => open.delete(key));
  }
  shared.users++;
  const { store, relay } = await shared.opening;
  const s = shared;
  let released = false;
  return {
    store,
    relay,
    async release() {
      if (released) return;
      released = true;
      if (--s.users > 0) return;
      open.delete(key);
      await relay.stop();
      await store.close();
    },
  };
}
