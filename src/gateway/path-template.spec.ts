import { describe, expect, it } from "vitest";
import { PathTemplate } from "./path-template.js";

describe("PathTemplate", () => {
  describe("match()", () => {
    it("binds single-segment variables, percent-decoded", () => {
      const t = new PathTemplate("/v1/carts/{user_id}/items/{sku}");
      expect(Object.fromEntries(t.match("/v1/carts/ann%20b/items/KB-001")!)).toEqual({ user_id: "ann b", sku: "KB-001" });
      expect(t.match("/v1/carts/ann/items")).toBeUndefined();
      expect(t.match("/v1/carts//items/x")).toBeUndefined();
    });
    it("honours a :verb suffix", () => {
      const t = new PathTemplate("/v1/carts/{user_id}:checkout");
      expect(t.match("/v1/carts/ann:checkout")?.get("user_id")).toBe("ann");
      expect(t.match("/v1/carts/ann")).toBeUndefined();
    });
  });
  it("rejects multi-segment captures with a clear error", () => {
    expect(() => new PathTemplate("/v1/{name=shelves/*}")).toThrow(/not a single variable|captures more than one segment/);
    expect(() => new PathTemplate("/v1/**")).toThrow(/not supported/);
    expect(() => new PathTemplate("v1")).toThrow(/must start with/);
  });
});
