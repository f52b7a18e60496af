import type { Socket } from "node:net";
import { FRAME_HEADER_BYTES } from "./native-protocol.js";

/** Slab size: frames are encoded into slabs of this size and written as slices of them. */
const SLAB_BYTES = 64 * 1024;
/** A frame's trailing message longer than this is written as its own chunk instead of being copied. */
const COPY_LIMIT = 16 * 1024;
/** Bytes queued in the socket and here above which writers of streamed messages wait for "drain". */
export const WRITE_HIGH_WATER_BYTES = 1024 * 1024;

/** When queued frames are written: at the next microtask checkpoint, or in `setImmediate` (after I/O of this turn). */
export type FlushMode = "microtask" | "immediate";

/**
 * Encodes frames into reused slabs and writes every frame queued during one
 * event-loop turn with one `socket.write` (or one corked `writev` when large
 * messages are written without copying).
 *
 * Use: `const pos = begin(id, type, flags, headBytes, tail)`, write exactly
 * `headBytes` bytes into {@link FrameWriter.buf} from `pos`, then `end()`.
 */
export class FrameWriter {
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  #start = 0;
  #pos = 0;
  #chunks: Buffer[] = [];
  #tail: Uint8Array | undefined;
  #queuedBytes = 0;
  #scheduled = false;
  #held: boolean;
  #closed = false;
  #drainWaiters: (() => void)[] = [];
  readonly #flush = (): void => this.flush();

  constructor(
    private readonly socket: Socket,
    private readonly mode: FlushMode = "microtask",
    held = false,
  ) {
    this.#held = held;
    socket.on("drain", () => this.#wakeDrainWaiters());
  }

  /** The slab the current frame's head is written into. */
  get buf(): Buffer {
    return this.#slab;
  }

  /** Bytes waiting here and in the socket's buffer. */
  get pendingBytes(): number {
    return this.#queuedBytes + this.socket.writableLength;
  }

  /** True when a producer of streamed messages should wait ({@link FrameWriter.waitDrain}). */
  get congested(): boolean {
    return this.#queuedBytes + this.socket.writableLength > WRITE_HIGH_WATER_BYTES;
  }

  /**
   * Starts a frame whose payload is `headBytes` bytes written by the caller,
   * then `tail` (a message) if given. Returns where the head goes in {@link buf}.
   */
  begin(streamId: number, type: number, flags: number, headBytes: number, tail?: Uint8Array): number {
    const tailLen = tail === undefined ? 0 : tail.length;
    const copyTail = tailLen <= COPY_LIMIT;
    const need = FRAME_HEADER_BYTES + headBytes + (copyTail ? tailLen : 0);
    if (this.#slab.length - this.#pos < need) this.#newSlab(need);
    const buf = this.#slab;
    let p = this.#pos;
    buf.writeUInt32BE(headBytes + tailLen, p);
    buf.writeUInt32BE(streamId, p + 4);
    buf[p + 8] = type;
    buf[p + 9] = flags;
    p += FRAME_HEADER_BYTES;
    this.#tail = tail;
    this.#pos = p + headBytes;
    this.#queuedBytes += FRAME_HEADER_BYTES + headBytes + tailLen;
    return p;
  }

  /** Finishes the frame started by {@link begin}: appends its tail and schedules the flush. */
  end(): void {
    const tail = this.#tail;
    if (tail !== undefined) {
      this.#tail = undefined;
      if (tail.length <= COPY_LIMIT) {
        this.#slab.set(tail, this.#pos);
        this.#pos += tail.length;
      } else {
        this.#closeRegion();
        this.#chunks.push(Buffer.isBuffer(tail) ? tail : Buffer.from(tail.buffer, tail.byteOffset, tail.length));
      }
    }
    if (!this.#scheduled && !this.#held) this.#schedule();
  }

  /** Queues a frame whose whole payload is `payload` (or empty). */
  frame(streamId: number, type: number, flags: number, payload?: Uint8Array): void {
    this.begin(streamId, type, flags, 0, payload);
    this.end();
  }

  /** Queues raw bytes (the preface). */
  raw(bytes: Uint8Array): void {
    if (this.#slab.length - this.#pos < bytes.length) this.#newSlab(bytes.length);
    this.#slab.set(bytes, this.#pos);
    this.#pos += bytes.length;
    this.#queuedBytes += bytes.length;
    if (!this.#scheduled && !this.#held) this.#schedule();
  }

  /** Lets queued frames go out (the client holds them until the server's preface arrived). */
  release(): void {
    this.#held = false;
    if (this.#queuedBytes > 0 && !this.#scheduled) this.#schedule();
  }

  /** Writes everything queued now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed) {
      this.#chunks.length = 0;
      return;
    }
    if (this.#held) return;
    this.#closeRegion();
    const chunks = this.#chunks;
    if (chunks.length === 0) return;
    this.#queuedBytes = 0;
    if (this.socket.destroyed) {
      chunks.length = 0;
      return;
    }
    if (chunks.length === 1) {
      this.socket.write(chunks[0]);
    } else {
      this.socket.cork();
      for (const c of chunks) this.socket.write(c);
      this.socket.uncork();
    }
    chunks.length = 0;
    if (!this.congested) this.#wakeDrainWaiters();
  }

  /** Resolves once the backlog is below the high-water mark (or the writer closed). */
  waitDrain(): Promise<void> {
    if (!this.congested || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Drops queued frames and wakes every waiter; later frames are discarded. */
  close(): void {
    this.#closed = true;
    this.#chunks.length = 0;
    this.#queuedBytes = 0;
    this.#wakeDrainWaiters();
  }

  #wakeDrainWaiters(): void {
    if (this.#drainWaiters.length === 0 || (this.congested && !this.#closed)) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  #schedule(): void {
    this.#scheduled = true;
    if (this.mode === "microtask") queueMicrotask(this.#flush);
    else setImmediate(this.#flush);
  }

  #closeRegion(): void {
    if (this.#pos > this.#start) {
      this.#chunks.push(this.#slab.subarray(this.#start, this.#pos));
      this.#start = this.#pos;
    }
  }

  #newSlab(need: number): void {
    this.#closeRegion();
    this.#slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, need));
    this.#start = 0;
    this.#pos = 0;
  }
}
