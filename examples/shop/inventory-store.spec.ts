import { describe, expect, it } from "vitest";
import { Code } from "../../src/index.js";
import { rejection } from "../../test/support/rejection.js";
import { createMemoryInventoryStore } from "./inventory-store.js";

describe("createMemoryInventoryStore()", () => {
  const catalog = [{ sku: "A-1", name: "Thing", priceCents: 100, stock: 5 }];

  it("reserves and releases, refusing to oversell", async () => {
    const store = createMemoryInventoryStore(catalog);
    expect((await store.reserve("A-1", 5)).stock).toBe(0);
    expect((await rejection(store.reserve("A-1", 1))).code).toBe(Code.FAILED_PRECONDITION);
    expect((await store.release("A-1", 2)).stock).toBe(2);
    expect((await rejection(store.get("B-2"))).code).toBe(Code.NOT_FOUND);
  });

  it("takes stock once for a repeated reservation id", async () => {
    const store = createMemoryInventoryStore(catalog);
    await store.reserve("A-1", 2, "r-1");
    await store.reserve("A-1", 2, "r-1");
    expect((await store.get("A-1")).stock).toBe(3);
    await store.reserve("A-1", 2, "r-2");
    expect((await store.get("A-1")).stock).toBe(1);
  });
});
