import net from "node:net";
import { createServer, type Server } from "../../src/index.js";
import type { Logger } from "../../src/util/logger.js";
import { FrameReader } from "../../src/transport/native/native-frame-reader.js";
import { Flag, FrameType, PREFACE_MAGIC } from "../../src/transport/native/native-protocol.js";
import { createNativeServerTransport, type NativeServerOptions } from "../../src/transport/native/index.js";
import { EchoService, echoImpl } from "../support/echo-service.js";

/**
 * Helpers for tests that speak the native protocol byte by byte: frame
 * builders and a raw peer socket that records what the other side sends.
 */

export interface RawFrame {
  id: number;
  type: number;
  flags: number;
  payload: Buffer;
}

/** One encoded frame. */
export function frame(id: number, type: number, flags: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt32BE(payload.length, 0);
  h.writeUInt32BE(id, 4);
  h[8] = type;
  h[9] = flags;
  return Buffer.concat([h, payload]);
}

/** A client preface offering versions `min`–`max`. */
export function preface(min = 1, max = 1): Buffer {
  return Buffer.concat([PREFACE_MAGIC, Buffer.from([min, max])]);
}

/** A SETTINGS frame. */
export function settings(entries: [number, number][] = []): Buffer {
  const p = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, v], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(v, i * 6 + 2);
  });
  return frame(0, FrameType.SETTINGS, 0, p);
}

/** An encoded metadata block. */
export function metadataBlock(entries: [string, string | Buffer][] = []): Buffer {
  const parts: Buffer[] = [Buffer.from([entries.length >> 8, entries.length & 0xff])];
  for (const [k, v] of entries) {
    const kb = Buffer.from(k, "latin1");
    const vb = typeof v === "string" ? Buffer.from(v, "latin1") : v;
    const h = Buffer.alloc(6);
    h.writeUInt16BE(kb.length, 0);
    h.writeUInt32BE(vb.length, 2);
    parts.push(h.subarray(0, 2), kb, h.subarray(2), vb);
  }
  return Buffer.concat(parts);
}

/** A CALL frame for `path` (or a method id), with the first request `message` (then half-closed unless `endStream: false`), a timeout and metadata. */
export function call(
  id: number,
  path: string,
  opts: { message?: Uint8Array; timeoutMs?: number; metadata?: [string, string | Buffer][]; endStream?: boolean; defineId?: number; methodId?: number } = {},
): Buffer {
  let flags = 0;
  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return b;
  };
  if (opts.methodId !== undefined) {
    flags |= Flag.METHOD_ID;
    parts.push(u32(opts.methodId));
  } else {
    const pl = Buffer.alloc(2);
    pl.writeUInt16BE(path.length);
    parts.push(pl, Buffer.from(path, "latin1"));
    if (opts.defineId !== undefined) {
      flags |= Flag.DEFINE_METHOD;
      parts.push(u32(opts.defineId));
    }
  }
  if (opts.timeoutMs !== undefined) {
    flags |= Flag.TIMEOUT;
    const t = Buffer.alloc(4);
    t.writeUInt32BE(opts.timeoutMs);
    parts.push(t);
  }
  parts.push(metadataBlock(opts.metadata));
  if (opts.message !== undefined) {
    flags |= Flag.MESSAGE;
    parts.push(Buffer.from(opts.message));
  }
  if (opts.endStream ?? opts.message !== undefined) flags |= Flag.END_STREAM;
  return frame(id, FrameType.CALL, flags, Buffer.concat(parts));
}

/** A socket speaking raw bytes to a native server, recording the frames it answers with. */
export class RawPeer {
  readonly frames: RawFrame[] = [];
  readonly closed: Promise<void>;
  received = Buffer.alloc(0);
  #reader = new FrameReader(64 << 20, (id, type, flags, buf, s, e) => this.frames.push({ id, type, flags, payload: Buffer.from(buf.subarray(s, e)) }));
  #prefaceSeen = false;

  private constructor(readonly socket: net.Socket) {
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      if (!this.#prefaceSeen) {
        if (this.received.length < 10) return;
        this.#prefaceSeen = true;
        this.#reader.push(this.received.subarray(10));
        return;
      }
      this.#reader.push(chunk);
    });
  }

  /** Connects to `port` on 127.0.0.1. */
  static async connect(port: number): Promise<RawPeer> {
    const socket = net.connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawPeer(socket);
  }

  /** Sends a preface and an empty SETTINGS frame. */
  handshake(): this {
    this.socket.write(Buffer.concat([preface(), settings()]));
    return this;
  }

  send(...bytes: Buffer[]): this {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(bytes));
    return this;
  }

  /** Resolves with the first recorded frame matching `pred`; rejects after `timeoutMs`. */
  async waitFor(pred: (f: RawFrame) => boolean, timeoutMs = 3000): Promise<RawFrame> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f !== undefined) return f;
      if (Date.now() > until) throw new Error("expected frame did not arrive");
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A logger recording warnings (the reasons connections were closed for). */
export function recordingLogger(): Logger & { warnings: string[]; errors: unknown[] } {
  const warnings: string[] = [];
  const errors: unknown[] = [];
  return {
    warnings,
    errors,
    warn: (o: object, msg?: string) => warnings.push(`${msg ?? ""}: ${(o as { reason?: string }).reason ?? ""}`),
    error: (o: object) => errors.push(o),
    info() {},
    debug() {},
  };
}

/** An echo server on the native transport (TCP, free port), logging into a recording logger. */
export async function startNativeEcho(options: NativeServerOptions = {}, serverOptions: { maxReceiveMessageBytes?: number } = {}): Promise<{ server: Server; port: number; url: string; logger: ReturnType<typeof recordingLogger> }> {
  const logger = recordingLogger();
  const server = createServer({ logger, ...serverOptions }).service(EchoService, echoImpl);
  const { url } = await server.listen(createNativeServerTransport({ port: 0, ...options }));
  return { server, port: Number(new URL(url).port), url, logger };
}

/** Waits until `check()` holds. */
export async function waitUntil(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
