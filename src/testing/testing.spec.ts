import { describe, expect, it } from "vitest";
import { Code, FerryError } from "../index.js";
import { defineTopic } from "../messaging/index.js";
import { InventoryService } from "../../examples/shop/gen/shop/v1/inventory_pb.js";
import { createMemoryBroker, createTestClient } from "./index.js";
import { ListProductsResponseSchema } from "../../examples/shop/gen/shop/v1/inventory_pb.js";

describe("ferry/testing", () => {
  describe("createTestClient()", () => {
    it("calls the implementation in-process and maps thrown errors to their codes", async () => {
      await using inventory = createTestClient(InventoryService, {
        getProduct({ sku }) {
          if (sku !== "A") throw new FerryError(Code.NOT_FOUND, `unknown SKU "${sku}"`);
          return { sku, name: "Apple", priceCents: 5n, stock: 1 };
        },
      });
      expect((await inventory.getProduct({ sku: "A" })).name).toBe("Apple");
      await expect(inventory.getProduct({ sku: "B" })).rejects.toMatchObject({ code: Code.NOT_FOUND });
      await expect(inventory.listProducts({})).rejects.toMatchObject({ code: Code.UNIMPLEMENTED });
    });

    it("shuts its server down when disposed", async () => {
      const client = createTestClient(InventoryService, { listProducts: () => ({}) });
      await client[Symbol.asyncDispose]();
      expect(client.server.state).toBe("stopped");
    });
  });

  describe("createMemoryBroker()", () => {
    it("gives independent brokers unless they share a name", async () => {
      const topic = defineTopic("t.catalog", ListProductsResponseSchema);
      await using a = await createMemoryBroker({ name: "shared" });
      await using b = await createMemoryBroker({ name: "shared" });
      await using c = await createMemoryBroker();
      const seen: string[] = [];
      await b.subscribe(topic, { group: "g", startAt: "beginning" }, async () => { seen.push("b"); });
      await c.subscribe(topic, { group: "g", startAt: "beginning" }, async () => { seen.push("c"); });
      await a.publish(topic, {});
      await expect.poll(() => seen).toEqual(["b"]);
    });
  });
});
