import { FRAME_HEADER_BYTES, GoAwayCode } from "./native-protocol.js";
import { ProtocolError } from "./native-codec.js";

/**
 * Receives one frame. `buf[start..end)` is its payload, valid only during the
 * call (it may be a view of the socket's chunk).
 */
export type FrameSink = (streamId: number, type: number, flags: number, buf: Buffer, start: number, end: number) => void;

/**
 * Splits the bytes of a connection into frames (docs/protocol.md, "Frame
 * layout"). Complete frames inside a chunk are handed on as views, without
 * copying; a frame split across chunks is assembled in one buffer of its
 * exact size. Raises a {@link ProtocolError} (FRAME_TOO_LARGE) for a frame
 * longer than `maxFrameBytes`, before buffering any of it.
 */
export class FrameReader {
  #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerFill = 0;
  #body: Buffer | undefined;
  #bodyFill = 0;
  #streamId = 0;
  #type = 0;
  #flags = 0;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly sink: FrameSink,
  ) {}

  /** True when part of a frame is buffered. */
  get midFrame(): boolean {
    return this.#headerFill > 0 || this.#body !== undefined;
  }

  /** Feeds `chunk` from `offset`; delivers each complete frame. */
  push(chunk: Buffer, offset = 0): void {
    let off = offset;
    const len = chunk.length;
    if (this.midFrame) {
      off = this.#continue(chunk, off);
      if (off < 0) return;
    }
    while (len - off >= FRAME_HEADER_BYTES) {
      const size = chunk.readUInt32BE(off);
      this.#check(size);
      const end = off + FRAME_HEADER_BYTES + size;
      if (end > len) break;
      this.sink(chunk.readUInt32BE(off + 4), chunk[off + 8], chunk[off + 9], chunk, off + FRAME_HEADER_BYTES, end);
      off = end;
    }
    if (off < len) this.#startPartial(chunk, off);
  }

  #check(size: number): void {
    if (size > this.maxFrameBytes) {
      throw new ProtocolError(`frame of ${size} bytes exceeds the limit of ${this.maxFrameBytes} bytes`, GoAwayCode.FRAME_TOO_LARGE);
    }
  }

  /** Stores the start of a frame that the chunk does not complete. */
  #startPartial(chunk: Buffer, off: number): void {
    const avail = chunk.length - off;
    if (avail < FRAME_HEADER_BYTES) {
      chunk.copy(this.#header, 0, off);
      this.#headerFill = avail;
      return;
    }
    chunk.copy(this.#header, 0, off, off + FRAME_HEADER_BYTES);
    this.#headerFill = FRAME_HEADER_BYTES;
    this.#openBody();
    this.#bodyFill = chunk.copy(this.#body!, 0, off + FRAME_HEADER_BYTES);
  }

  #openBody(): void {
    const h = this.#header;
    const size = h.readUInt32BE(0);
    this.#check(size);
    this.#streamId = h.readUInt32BE(4);
    this.#type = h[8];
    this.#flags = h[9];
    this.#body = Buffer.allocUnsafe(size);
    this.#bodyFill = 0;
  }

  /** Continues a buffered frame; returns the offset after it, or -1 when the chunk ended first. */
  #continue(chunk: Buffer, off: number): number {
    if (this.#body === undefined) {
      const n = Math.min(FRAME_HEADER_BYTES - this.#headerFill, chunk.length - off);
      chunk.copy(this.#header, this.#headerFill, off, off + n);
      this.#headerFill += n;
      off += n;
      if (this.#headerFill < FRAME_HEADER_BYTES) return -1;
      this.#openBody();
    }
    const body = this.#body!;
    const n = Math.min(body.length - this.#bodyFill, chunk.length - off);
    chunk.copy(body, this.#bodyFill, off, off + n);
    this.#bodyFill += n;
    off += n;
    if (this.#bodyFill < body.length) return -1;
    this.#body = undefined;
    this.#headerFill = 0;
    this.sink(this.#streamId, this.#type, this.#flags, body, 0, body.length);
    return off;
  }
}
