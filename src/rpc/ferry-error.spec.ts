import { describe, expect, it } from "vitest";
import { Code, codeFromNumber, codeFromString, codeName, codeToString } from "./code.js";
import { FerryError } from "./ferry-error.js";

describe("FerryError", () => {
  it("carries code, raw message, metadata and retryability", () => {
    const e = new FerryError(Code.UNAVAILABLE, "down", { metadata: { "x-a": "1" } });
    expect(e.message).toBe("[UNAVAILABLE] down");
    expect(e.rawMessage).toBe("down");
    expect(e.metadata.get("x-a")).toBe("1");
    expect(e.retryable).toBe(true);
    expect(new FerryError(Code.NOT_FOUND, "x").retryable).toBe(false);
    expect(new FerryError(Code.NOT_FOUND, "x", { retryable: true }).retryable).toBe(true);
  });
  it("never holds OK", () => {
    expect(new FerryError(Code.OK, "odd").code).toBe(Code.UNKNOWN);
  });
  describe("from()", () => {
    it("keeps FerryErrors, maps AbortError and TimeoutError, hides anything else as INTERNAL", () => {
      const own = new FerryError(Code.ABORTED, "x");
      expect(FerryError.from(own)).toBe(own);
      expect(FerryError.from(new DOMException("stop", "AbortError")).code).toBe(Code.CANCELLED);
      expect(FerryError.from(new DOMException("late", "TimeoutError")).code).toBe(Code.DEADLINE_EXCEEDED);
      const hidden = FerryError.from(new Error("password=hunter2"));
      expect(hidden.code).toBe(Code.INTERNAL);
      expect(hidden.message).not.toContain("hunter2");
      expect((hidden.cause as Error).message).toContain("hunter2");
    });
  });
  describe("instanceof", () => {
    it("recognises errors branded by another copy of the module", () => {
      const foreign = Object.assign(new Error("x"), { [Symbol.for("ferry.FerryError")]: true });
      expect(foreign instanceof FerryError).toBe(true);
      expect(new Error("x") instanceof FerryError).toBe(false);
    });
  });
});

describe("Code", () => {
  it("has gRPC's 17 codes with names both ways", () => {
    expect(codeName(Code.FAILED_PRECONDITION)).toBe("FAILED_PRECONDITION");
    expect(codeToString(Code.NOT_FOUND)).toBe("not_found");
    expect(codeFromString("unavailable")).toBe(Code.UNAVAILABLE);
    expect(codeFromString("nope")).toBeUndefined();
    expect(codeFromNumber(16)).toBe(Code.UNAUTHENTICATED);
    expect(codeFromNumber(17)).toBe(Code.UNKNOWN);
  });
});
