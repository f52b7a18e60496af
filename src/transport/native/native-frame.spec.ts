import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { Metadata } from "../../rpc/metadata.js";
import { metadataBytes, PayloadReader, prepareStatus, ProtocolError, readMetadataBlock, readStatus, statusBytes, writeMetadataBlock, writeStatus } from "./native-codec.js";
import { FrameReader } from "./native-frame-reader.js";
import { FrameWriter } from "./native-frame-writer.js";
import { FrameType, GoAwayCode } from "./native-protocol.js";

/** Collects what a FrameWriter writes (the writer only needs write/cork/uncork/writableLength/destroyed/on). */
class CaptureSocket extends EventEmitter {
  chunks: Buffer[] = [];
  writableLength = 0;
  destroyed = false;
  write(b: Buffer): boolean {
    this.chunks.push(Buffer.from(b));
    return true;
  }
  cork(): void {}
  uncork(): void {}
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

interface Frame {
  id: number;
  type: number;
  flags: number;
  payload: Buffer;
}

function readAll(bytes: Buffer, split: number[] = [], max = 1 << 20): Frame[] {
  const out: Frame[] = [];
  const reader = new FrameReader(max, (id, type, flags, buf, start, end) => out.push({ id, type, flags, payload: Buffer.from(buf.subarray(start, end)) }));
  let at = 0;
  for (const s of [...split, bytes.length]) {
    reader.push(bytes.subarray(at, s));
    at = s;
  }
  return out;
}

function writeFrames(frames: Frame[]): Buffer {
  const socket = new CaptureSocket();
  const w = new FrameWriter(socket as unknown as Socket);
  for (const f of frames) w.frame(f.id, f.type, f.flags, f.payload);
  w.flush();
  return socket.bytes();
}

describe("native frames", () => {
  const frames: Frame[] = [
    { id: 1, type: FrameType.CALL, flags: 0x13, payload: Buffer.from("call payload") },
    { id: 1, type: FrameType.MESSAGE, flags: 0, payload: Buffer.alloc(0) },
    { id: 0x7fffffff, type: FrameType.WINDOW_UPDATE, flags: 0, payload: Buffer.from([0, 1, 0, 0]) },
    { id: 3, type: FrameType.MESSAGE, flags: 1, payload: Buffer.alloc(40 * 1024, 7) }, // larger than the copy limit: written as its own chunk
    { id: 0, type: FrameType.PING, flags: 1, payload: Buffer.alloc(8, 1) },
  ];

  describe("FrameWriter and FrameReader", () => {
    it("round-trips frames written in one flush", () => {
      expect(readAll(writeFrames(frames))).toEqual(frames);
    });

    it("reassembles frames split at every byte boundary of the header and payload", () => {
      const bytes = writeFrames(frames.slice(0, 3));
      for (let cut = 1; cut < bytes.length; cut++) expect(readAll(bytes, [cut])).toEqual(frames.slice(0, 3));
    });

    it("reassembles frames fed one byte at a time", () => {
      const bytes = writeFrames(frames);
      expect(readAll(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))).toEqual(frames);
    });

    it("rejects a frame over the size limit from its header alone, with FRAME_TOO_LARGE", () => {
      const header = writeFrames([{ id: 1, type: FrameType.MESSAGE, flags: 0, payload: Buffer.alloc(2000) }]).subarray(0, 10);
      const reader = new FrameReader(1000, () => undefined);
      let error: unknown;
      try {
        reader.push(header);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).goAwayCode).toBe(GoAwayCode.FRAME_TOO_LARGE);
    });

    it("holds frames back while held and writes them on release()", () => {
      const socket = new CaptureSocket();
      const w = new FrameWriter(socket as unknown as Socket, "microtask", true);
      w.frame(1, FrameType.HALF_CLOSE, 0);
      w.flush();
      expect(socket.chunks).toHaveLength(0);
      w.release();
      w.flush();
      expect(readAll(socket.bytes())).toEqual([{ id: 1, type: FrameType.HALF_CLOSE, flags: 0, payload: Buffer.alloc(0) }]);
    });

    it("coalesces frames queued in one turn into one write", async () => {
      const socket = new CaptureSocket();
      const w = new FrameWriter(socket as unknown as Socket, "immediate");
      for (let i = 1; i <= 100; i++) w.frame(i, FrameType.MESSAGE, 0, Buffer.from([i]));
      await new Promise((r) => setImmediate(r));
      expect(socket.chunks).toHaveLength(1);
      expect(readAll(socket.bytes())).toHaveLength(100);
    });
  });

  describe("metadata blocks", () => {
    it("round-trip text and binary values, repeated keys in order", () => {
      const md = new Metadata().append("x-a", "one").append("x-a", "two").set("x-bin", new Uint8Array([0, 255, 10])).set("empty", "");
      const buf = Buffer.alloc(metadataBytes(md));
      expect(writeMetadataBlock(buf, 0, md)).toBe(buf.length);
      const back = readMetadataBlock(new PayloadReader(buf, 0, buf.length));
      expect(back.getAll("x-a")).toEqual(["one", "two"]);
      expect([...(back.get("x-bin") as Uint8Array)]).toEqual([0, 255, 10]);
      expect(back.get("empty")).toBe("");
    });

    it("never sends reserved keys (grpc-*)", () => {
      const md = new Metadata().set("grpc-status", "0").set("x-ok", "1");
      const buf = Buffer.alloc(metadataBytes(md));
      writeMetadataBlock(buf, 0, md);
      expect([...readMetadataBlock(new PayloadReader(buf, 0, buf.length)).keys()]).toEqual(["x-ok"]);
    });

    it("rejects an invalid key, a non-ASCII text value and a truncated block", () => {
      const block = (key: string, value: Buffer) => {
        const b = Buffer.alloc(2 + 2 + key.length + 4 + value.length);
        b.writeUInt16BE(1, 0);
        b.writeUInt16BE(key.length, 2);
        b.write(key, 4, "latin1");
        b.writeUInt32BE(value.length, 4 + key.length);
        value.copy(b, 8 + key.length);
        return b;
      };
      const read = (b: Buffer) => () => readMetadataBlock(new PayloadReader(b, 0, b.length));
      expect(read(block("Bad Key", Buffer.from("v")))).toThrow(/invalid metadata key/);
      expect(read(block("x-k", Buffer.from([0x0a])))).toThrow(/not printable ASCII/);
      const ok = block("x-k", Buffer.from("value"));
      expect(read(ok.subarray(0, ok.length - 1))).toThrow(/truncated metadata value/);
      const huge = Buffer.from(ok);
      huge.writeUInt32BE(0xffffffff, 7);
      expect(read(huge)).toThrow(ProtocolError);
    });
  });

  describe("status sections", () => {
    it("round-trip OK with trailers", () => {
      const s = prepareStatus(undefined, new Metadata({ "x-t": "1" }));
      const buf = Buffer.alloc(statusBytes(s));
      expect(writeStatus(buf, 0, s)).toBe(buf.length);
      const trailers = new Metadata();
      expect(readStatus(new PayloadReader(buf, 0, buf.length), trailers)).toBeUndefined();
      expect(trailers.get("x-t")).toBe("1");
    });

    it("round-trip an error's code, UTF-8 message, details and metadata", () => {
      const details = [{ $typeName: "google.protobuf.Any" as const, typeUrl: "type.googleapis.com/x.Y", value: new Uint8Array([1, 2]) }];
      const error = new FerryError(Code.FAILED_PRECONDITION, "stock ünïcödé ✓", { metadata: { "x-e": "e" }, details });
      const s = prepareStatus(error, new Metadata({ "x-t": "t" }));
      const buf = Buffer.alloc(statusBytes(s));
      expect(writeStatus(buf, 0, s)).toBe(buf.length);
      const back = readStatus(new PayloadReader(buf, 0, buf.length), new Metadata());
      expect(back).toMatchObject({ code: Code.FAILED_PRECONDITION, rawMessage: "stock ünïcödé ✓" });
      expect(back?.metadata.get("x-e")).toBe("e");
      expect(back?.metadata.get("x-t")).toBe("t");
      expect(back?.details[0].typeUrl).toBe("type.googleapis.com/x.Y");
    });

    it("maps a status code outside 0-16 to UNKNOWN", () => {
      const buf = Buffer.from([99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      expect(readStatus(new PayloadReader(buf, 0, buf.length), new Metadata())?.code).toBe(Code.UNKNOWN);
    });
  });
});
