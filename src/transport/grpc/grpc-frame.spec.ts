import { describe, expect, it } from "vitest";
import { Code } from "../../rpc/code.js";
import { encodeGrpcFrame, GrpcFrameDecoder } from "./grpc-frame.js";

function decodeAll(chunks: Buffer[], max = 1 << 20): Uint8Array[] {
  const out: Uint8Array[] = [];
  const d = new GrpcFrameDecoder(max, (m) => out.push(Uint8Array.from(m)));
  for (const c of chunks) d.push(c);
  return out;
}

describe("GrpcFrameDecoder", () => {
  const messages = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(7)];
  const stream = Buffer.concat(messages.map((m) => encodeGrpcFrame(m)));

  it("decodes frames whole, and split at every possible byte boundary", () => {
    expect(decodeAll([stream])).toEqual(messages);
    for (let cut = 1; cut < stream.length; cut++) {
      expect(decodeAll([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(messages);
    }
    expect(decodeAll([...stream].map((b) => Buffer.from([b])))).toEqual(messages);
  });

  it("decodes many frames cut into chunks of every size from 1 to 64 bytes", () => {
    const many = Array.from({ length: 50 }, (_, i) => new Uint8Array(i * 3).fill(i));
    const bytes = Buffer.concat(many.map((m) => encodeGrpcFrame(m)));
    for (let size = 1; size <= 64; size++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      expect(decodeAll(chunks)).toEqual(many);
    }
  });

  it("rejects a declared length over the limit from the prefix alone", () => {
    const prefix = Buffer.from([0, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decodeAll([prefix], 1024)).toThrow(expect.objectContaining({ code: Code.RESOURCE_EXHAUSTED }));
  });

  it("rejects an invalid flag byte", () => {
    expect(() => decodeAll([Buffer.from([9, 0, 0, 0, 0])])).toThrow(expect.objectContaining({ code: Code.INTERNAL }));
  });

  it("reports bytes of an unfinished message", () => {
    const d = new GrpcFrameDecoder(1024, () => undefined);
    d.push(stream.subarray(0, 6));
    expect(d.pendingBytes).toBe(6);
  });
});
