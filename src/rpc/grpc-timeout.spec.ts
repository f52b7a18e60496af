import { describe, expect, it } from "vitest";
import { encodeGrpcTimeout, parseGrpcTimeout } from "./grpc-timeout.js";

describe("grpc-timeout", () => {
  describe("parseGrpcTimeout()", () => {
    it("reads every unit", () => {
      expect(parseGrpcTimeout("1H")).toBe(3_600_000);
      expect(parseGrpcTimeout("2M")).toBe(120_000);
      expect(parseGrpcTimeout("3S")).toBe(3000);
      expect(parseGrpcTimeout("40m")).toBe(40);
      expect(parseGrpcTimeout("5000u")).toBe(5);
      expect(parseGrpcTimeout("2000000n")).toBe(2);
    });
    it("rejects 9 digits, unknown units, signs and empty values", () => {
      for (const bad of ["123456789m", "10x", "-1S", "", "S", "1.5S", "10 S"]) expect(parseGrpcTimeout(bad)).toBeUndefined();
    });
  });
  describe("encodeGrpcTimeout()", () => {
    it("round-trips within a unit of precision and never exceeds 8 digits", () => {
      for (const ms of [0.5, 1, 999, 1000, 123_456, 99_999_999, 5e9, 1e12]) {
        const text = encodeGrpcTimeout(ms);
        expect(text.length).toBeLessThanOrEqual(9);
        const back = parseGrpcTimeout(text)!;
        expect(Math.abs(back - ms) / ms).toBeLessThan(0.01);
      }
    });
    it("encodes a passed deadline as the smallest timeout", () => {
      expect(encodeGrpcTimeout(-5)).toBe("1n");
    });
  });
});
