import { describe, expect, it } from "vitest";
import { decodeGrpcMessage, encodeGrpcMessage, readMetadata } from "./grpc-headers.js";

describe("grpc-message encoding", () => {
  it("percent-encodes non-printable bytes and %, and decodes them back", () => {
    const text = "50% off — ünï\n✓";
    const enc = encodeGrpcMessage(text);
    expect(enc).toMatch(/^[\x20-\x7e]*$/);
    expect(enc.startsWith("50%25 off ")).toBe(true);
    expect(decodeGrpcMessage(enc)).toBe(text);
  });
  it("keeps malformed escapes as they are", () => {
    expect(decodeGrpcMessage("100%zz")).toBe("100%zz");
  });
});

describe("readMetadata()", () => {
  it("skips reserved headers and decodes comma-joined -bin values", () => {
    const md = readMetadata({ ":path": "/x", "content-type": "application/grpc", "grpc-timeout": "1S", "x-a": "1", "x-b-bin": "AQI=,Aw" });
    expect([...md.keys()]).toEqual(["x-a", "x-b-bin"]);
    expect(md.getAll("x-b-bin").map((v) => [...(v as Uint8Array)])).toEqual([[1, 2], [3]]);
  });
});
