import { describe, expect, it } from "vitest";
import { PathTemplate } from "./path-template.js";

const match = (template: string, path: string) => {
  const m = new PathTemplate(template).match(path);
  return m === undefined ? undefined : Object.fromEntries(m);
};

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
    it("binds a variable to a sub-path ({name=shelves/*/books/*})", () => {
      expect(match("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/books/b%2F2")).toEqual({ name: "shelves/s1/books/b%2F2" });
      expect(match("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/books")).toBeUndefined();
      expect(match("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/notes/n1")).toBeUndefined();
      expect(match("/v1/{name=messages/*}", "/v1/messages/a%20b")).toEqual({ name: "messages/a b" });
    });
    it("** matches zero or more segments, also before a verb and literals", () => {
      expect(match("/v1/files/{name=**}", "/v1/files/a/b/c")).toEqual({ name: "a/b/c" });
      expect(match("/v1/files/{name=**}", "/v1/files")).toEqual({ name: "" });
      expect(match("/v1/{name=projects/*/**}/meta:get", "/v1/projects/p/x/y/meta:get")).toEqual({ name: "projects/p/x/y" });
      expect(match("/v1/**", "/v1/anything/at/all")).toEqual({});
    });
    it("binds nested field paths", () => {
      expect(match("/v1/shelves/{shelf.shelf_id}/books/{name}:move", "/v1/shelves/s9/books/b1:move")).toEqual({ "shelf.shelf_id": "s9", name: "b1" });
    });
    it("a malformed escape is INVALID_ARGUMENT", () => {
      expect(() => match("/v1/{id}", "/v1/%FF%FE")).toThrow(/not UTF-8/);
    });
  });
  it("rejects templates outside the grammar with a clear error", () => {
    expect(() => new PathTemplate("/v1/**/x/**")).toThrow(/\*\* may appear once/);
    expect(() => new PathTemplate("/v1/{a={b}}")).toThrow(/nested braces/);
    expect(() => new PathTemplate("/v1/x{a}")).toThrow(/not a literal/);
    expect(() => new PathTemplate("/v1/{a}/{a}")).toThrow(/bound twice/);
    expect(() => new PathTemplate("v1")).toThrow(/must start with/);
  });
});
