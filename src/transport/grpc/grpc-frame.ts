import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";

/** Size of gRPC's message prefix: 1 flag byte and a 4-byte big-endian length. */
export const GRPC_PREFIX_BYTES = 5;

/**
 * Frames `message` as a gRPC Length-Prefixed-Message (gRPC
 * PROTOCOL-HTTP2): a compressed-flag byte, the length as a 32-bit big-endian
 * integer, then the bytes, in one buffer ready for one write.
 */
export function encodeGrpcFrame(message: Uint8Array, compressed = false): Buffer {
  const frame = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + message.byteLength);
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, GRPC_PREFIX_BYTES);
  return frame;
}

/** Receives decoded frames from a {@link GrpcFrameDecoder}. */
export type FrameHandler = (message: Uint8Array, compressed: boolean) => void;

/**
 * Splits a byte stream into gRPC Length-Prefixed-Messages. A length above
 * `maxMessageBytes` is rejected as soon as its prefix is read, before any
 * buffer of that size is allocated: `push` throws RESOURCE_EXHAUSTED.
 */
export class GrpcFrameDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #need = -1;
  #compressed = false;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly onFrame: FrameHandler,
  ) {}

  /** Bytes received but not yet part of a whole message. */
  get pendingBytes(): number {
    return this.#buffered + (this.#need >= 0 ? GRPC_PREFIX_BYTES : 0);
  }

  /** Feeds received bytes; calls the handler once per complete message. */
  push(chunk: Buffer): void {
    if (this.#buffered === 0 && this.#need < 0) {
      this.#fastPath(chunk);
      return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    this.#drain();
  }

  /**
   * Parses messages straight out of `chunk` while it holds whole frames (one
   * view per message); keeps the unfinished rest, whose prefix is read once
   * the next bytes arrive.
   */
  #fastPath(chunk: Buffer): void {
    let offset = 0;
    while (chunk.byteLength - offset >= GRPC_PREFIX_BYTES) {
      const len = this.#readPrefix(chunk, offset);
      if (chunk.byteLength - offset - GRPC_PREFIX_BYTES < len) break;
      const start = offset + GRPC_PREFIX_BYTES;
      offset = start + len;
      this.onFrame(chunk.subarray(start, offset), this.#compressed);
    }
    if (offset < chunk.byteLength) {
      this.#chunks.push(offset === 0 ? chunk : chunk.subarray(offset));
      this.#buffered = chunk.byteLength - offset;
    }
  }

  #readPrefix(buf: Buffer, offset: number): number {
    const flag = buf[offset];
    if (flag > 1) throw new FerryError(Code.INTERNAL, `invalid gRPC message flag ${flag}`);
    const len = buf.readUInt32BE(offset + 1);
    if (len > this.maxMessageBytes) {
      throw new FerryError(Code.RESOURCE_EXHAUSTED, `message of ${len} bytes exceeds the limit of ${this.maxMessageBytes} bytes`);
    }
    this.#compressed = flag === 1;
    return len;
  }

  #drain(): void {
    while (true) {
      if (this.#need < 0 && this.#chunks.length === 1) {
        // Between messages with one chunk left (the usual case once a split message is complete): parse it in place.
        const rest = this.#chunks[0];
        this.#chunks.length = 0;
        this.#buffered = 0;
        this.#fastPath(rest);
        return;
      }
      if (this.#need < 0) {
        if (this.#buffered < GRPC_PREFIX_BYTES) return;
        const prefix = this.#take(GRPC_PREFIX_BYTES);
        this.#need = this.#readPrefix(prefix, 0);
      }
      if (this.#buffered < this.#need) return;
      const message = this.#take(this.#need);
      this.#need = -1;
      this.onFrame(message, this.#compressed);
    }
  }

  #take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0];
    if (first.byteLength >= n) {
      this.#buffered -= n;
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0];
      const k = Math.min(c.byteLength, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.byteLength) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#buffered -= n;
    return out;
  }
}

/** Size of a {@link GrpcFrameBatch} slab: the batch is written out before it would grow past this. */
export const FRAME_BATCH_BYTES = 64 * 1024;

/**
 * Length-Prefixed-Messages of one stream, encoded straight into a slab the
 * transport owns and written out as one slice of it (no buffer per message,
 * no concatenation). Use: `if (!batch.fits(n)) write(batch.take())`, then
 * `pos = batch.begin(n, compressed)`, write the `n` message bytes into
 * {@link GrpcFrameBatch.buf} at `pos`. A slice handed out by {@link take}
 * is never written again (a new slab follows a full one).
 */
export class GrpcFrameBatch {
  #slab: Buffer = Buffer.allocUnsafe(FRAME_BATCH_BYTES);
  #start = 0;
  #pos = 0;

  /** The slab the current message goes into. */
  get buf(): Buffer {
    return this.#slab;
  }

  /** Bytes queued and not yet taken. */
  get pendingBytes(): number {
    return this.#pos - this.#start;
  }

  /** Whether a message of `n` bytes can join the queued ones (else take them first). */
  fits(n: number): boolean {
    return this.#pos === this.#start || this.#slab.length - this.#pos >= GRPC_PREFIX_BYTES + n;
  }

  /** Starts a frame of an `n`-byte message: writes its prefix, returns where the message goes. */
  begin(n: number, compressed = false): number {
    if (this.#slab.length - this.#pos < GRPC_PREFIX_BYTES + n) {
      // fits() said the queue is empty: start a new slab (the old one may still be in a pending write).
      this.#slab = Buffer.allocUnsafe(Math.max(FRAME_BATCH_BYTES, GRPC_PREFIX_BYTES + n));
      this.#start = this.#pos = 0;
    }
    const slab = this.#slab;
    const p = this.#pos;
    slab[p] = compressed ? 1 : 0;
    slab.writeUInt32BE(n, p + 1);
    this.#pos = p + GRPC_PREFIX_BYTES + n;
    return p + GRPC_PREFIX_BYTES;
  }

  /** The queued frames as one slice of the slab (undefined when none). */
  take(): Buffer | undefined {
    if (this.#pos === this.#start) return undefined;
    const chunk = this.#slab.subarray(this.#start, this.#pos);
    this.#start = this.#pos;
    return chunk;
  }
}
