/**
 * Minimal gRPC message framing for the raw HTTP/2 reference: a 5-byte prefix
 * (compressed flag u8 = 0, length u32 BE) before each message. No codec: the
 * reference echoes raw bytes.
 */

/** Bytes of the gRPC length prefix. */
export const PREFIX_BYTES = 5;
/** Largest message accepted (the contender's own safety limit). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** `body` with its 5-byte prefix, in a new buffer. */
export function frameMessage(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PREFIX_BYTES + body.length);
  out[0] = 0;
  out.writeUInt32BE(body.length, 1);
  out.set(body, PREFIX_BYTES);
  return out;
}

/** `count` copies of `body`, each framed, in one new buffer (one write). */
export function frameMessages(body: Uint8Array, count: number): Buffer {
  const size = PREFIX_BYTES + body.length;
  const out = Buffer.allocUnsafe(size * count);
  for (let i = 0, off = 0; i < count; i++, off += size) {
    out[off] = 0;
    out.writeUInt32BE(body.length, off + 1);
    out.set(body, off + PREFIX_BYTES);
  }
  return out;
}

/** Splits a DATA byte stream into gRPC messages. */
export class GrpcMessageReader {
  #pending: Buffer | undefined;

  constructor(private readonly onMessage: (body: Buffer) => void) {}

  /** Feeds `chunk`; calls the handler for each complete message. Throws on an oversized message. */
  push(chunk: Buffer): void {
    const buf = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    let off = 0;
    while (buf.length - off >= PREFIX_BYTES) {
      const len = buf.readUInt32BE(off + 1);
      if (len > MAX_MESSAGE_BYTES) throw new Error(`message of ${len} bytes exceeds ${MAX_MESSAGE_BYTES}`);
      if (buf.length - off < PREFIX_BYTES + len) break;
      this.onMessage(buf.subarray(off + PREFIX_BYTES, off + PREFIX_BYTES + len));
      off += PREFIX_BYTES + len;
    }
    this.#pending = off === buf.length ? undefined : buf.subarray(off);
  }
}

/** HTTP/2 settings of the raw reference: 1 MiB stream windows (connection window raised by the client to 16 MiB). */
export const H2_STREAM_WINDOW_BYTES = 1 << 20;
export const H2_SESSION_WINDOW_BYTES = 16 << 20;
/** Paths of EchoService's methods. */
export const ECHO_PATH = "/ferry.test.v1.EchoService/Echo";
export const SERVER_STREAM_PATH = "/ferry.test.v1.EchoService/ServerStream";
