import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../src/index.js";
import { rejection } from "../../test/support/rejection.js";
import { checkService } from "../../test/support/services.js";
import { createRedisInventoryStore } from "./redis-inventory-store.js";
import type { InventoryStore } from "./inventory-store.js";

const check = await checkService("Redis", "127.0.0.1", 6379);

describe.skipIf(check.skip)("createRedisInventoryStore()", () => {
  const keyPrefix = `ferry-test-${randomUUID()}`;
  const catalog = [{ sku: "A-1", name: "Thing", priceCents: 100, stock: 10 }];
  let a: InventoryStore;
  let b: InventoryStore;
  beforeAll(async () => {
    a = await createRedisInventoryStore({ url: "redis://127.0.0.1:6379", keyPrefix, catalog });
    b = await createRedisInventoryStore({ url: "redis://127.0.0.1:6379", keyPrefix, catalog });
  });
  afterAll(async () => {
    const { Redis } = await import("ioredis");
    const r = new Redis("redis://127.0.0.1:6379");
    await r.del(`${keyPrefix}:product:A-1`, `${keyPrefix}:reservation:${keyPrefix}-r1`);
    await r.quit();
    await a.close();
    await b.close();
  });

  it("shares stock between instances and never oversells under concurrent reservations", async () => {
    const attempts = Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).reserve("A-1", 1).then(() => true, () => false));
    const ok = (await Promise.all(attempts)).filter(Boolean).length;
    expect(ok).toBe(10);
    expect((await a.get("A-1")).stock).toBe(0);
    const err = await rejection(b.reserve("A-1", 1));
    expect(err.code).toBe(Code.FAILED_PRECONDITION);
    await a.release("A-1", 3);
    expect((await b.get("A-1")).stock).toBe(3);
  });

  it("takes stock once for a reservation id repeated on any instance", async () => {
    const before = (await a.get("A-1")).stock;
    await a.reserve("A-1", 2, `${keyPrefix}-r1`);
    await b.reserve("A-1", 2, `${keyPrefix}-r1`);
    expect((await a.get("A-1")).stock).toBe(before - 2);
    await a.release("A-1", 2);
  });

  it("keeps existing stock when a second instance seeds, and reports unknown SKUs as NOT_FOUND", async () => {
    const c = await createRedisInventoryStore({ url: "redis://127.0.0.1:6379", keyPrefix, catalog });
    expect((await c.get("A-1")).stock).toBe(3);
    expect((await rejection(c.get("B-2"))).code).toBe(Code.NOT_FOUND);
    await c.close();
  });
});
