import { describe, expect, it } from "vitest";
import { Metadata } from "./metadata.js";

describe("Metadata", () => {
  describe("set() and append()", () => {
    it("lower-cases keys and keeps several values in order", () => {
      const md = new Metadata().append("X-Id", "a").append("x-id", "b");
      expect(md.getAll("x-ID")).toEqual(["a", "b"]);
      md.set("x-id", "c");
      expect(md.getAll("x-id")).toEqual(["c"]);
    });
    it("rejects invalid keys, bytes on text keys, text on -bin keys and non-ASCII text", () => {
      expect(() => new Metadata().set("bad key", "v")).toThrow(/metadata key "bad key" is invalid/);
      expect(() => new Metadata().set("x-bin", "text")).toThrow(/needs a Uint8Array/);
      expect(() => new Metadata().set("x", new Uint8Array(1))).toThrow(/needs a string/);
      expect(() => new Metadata().set("x", "é")).toThrow(/outside printable ASCII at index 0/);
    });
  });
  describe("constructor", () => {
    it("copies records, arrays of values and other Metadata", () => {
      const md = new Metadata({ a: "1", b: ["2", "3"], "c-bin": new Uint8Array([1]) });
      const copy = new Metadata(md);
      expect([...copy]).toEqual([["a", "1"], ["b", "2"], ["b", "3"], ["c-bin", new Uint8Array([1])]]);
      copy.delete("a");
      expect(md.has("a")).toBe(true);
    });
  });
  describe("toJSON()", () => {
    it("base64-encodes binary values", () => {
      expect(new Metadata({ "k-bin": new Uint8Array([255]) }).toJSON()).toEqual({ "k-bin": ["/w=="] });
    });
  });
});
