import type { Socket } from "node:net";

/**
 * The raw TCP reference's framing: a 9-byte header (body length u32 BE,
 * call id u32 BE, kind u8) then the body. No codec: bodies are raw bytes.
 * Writes are coalesced: frames queued in one event-loop turn go out in one
 * `socket.write` at the next microtask checkpoint.
 */

export const HEADER_BYTES = 9;
/** Frame kinds. */
export const Kind = { UNARY: 1, STREAM: 2, MESSAGE: 3, END: 4 } as const;
/** Largest body accepted (the contender's own safety limit). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Called for every complete frame; `body` is a view valid only during the call. */
export type FrameHandler = (id: number, kind: number, body: Buffer) => void;

/** Splits a byte stream into frames. */
export class FrameReader {
  #pending: Buffer | undefined;

  constructor(private readonly onFrame: FrameHandler) {}

  /** Feeds `chunk`; calls the handler for each complete frame. Throws on an oversized frame. */
  push(chunk: Buffer): void {
    const buf = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    let off = 0;
    while (buf.length - off >= HEADER_BYTES) {
      const len = buf.readUInt32BE(off);
      if (len > MAX_BODY_BYTES) throw new Error(`frame body of ${len} bytes exceeds ${MAX_BODY_BYTES}`);
      if (buf.length - off < HEADER_BYTES + len) break;
      this.onFrame(buf.readUInt32BE(off + 4), buf[off + 8], buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len));
      off += HEADER_BYTES + len;
    }
    this.#pending = off === buf.length ? undefined : buf.subarray(off);
  }
}

/** Queues frames and writes them to the socket once per microtask checkpoint. */
export class FrameWriter {
  #ids: number[] = [];
  #kinds: number[] = [];
  #bodies: Uint8Array[] = [];
  #bytes = 0;
  #scheduled = false;
  readonly #flush = (): void => {
    this.flush();
  };

  constructor(private readonly socket: Socket) {}

  /** Queues one frame. */
  write(id: number, kind: number, body: Uint8Array): void {
    this.#ids.push(id);
    this.#kinds.push(kind);
    this.#bodies.push(body);
    this.#bytes += HEADER_BYTES + body.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Writes everything queued in one buffer. Returns `socket.write`'s answer (false: wait for "drain"). */
  flush(): boolean {
    this.#scheduled = false;
    if (this.#bodies.length === 0) return true;
    const out = Buffer.allocUnsafe(this.#bytes);
    let off = 0;
    for (let i = 0; i < this.#bodies.length; i++) {
      const body = this.#bodies[i];
      out.writeUInt32BE(body.length, off);
      out.writeUInt32BE(this.#ids[i], off + 4);
      out[off + 8] = this.#kinds[i];
      out.set(body, off + HEADER_BYTES);
      off += HEADER_BYTES + body.length;
    }
    this.#ids = [];
    this.#kinds = [];
    this.#bodies = [];
    this.#bytes = 0;
    return this.socket.write(out);
  }
}
