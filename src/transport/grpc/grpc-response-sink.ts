import type { ServerHttp2Stream } from "node:http2";
import type { MessageCodec } from "../../codec/message-codec.js";
import type { ResponseSink } from "../../rpc/response-stream.js";
import { waitForDrain } from "../../util/wait-for-drain.js";
import { compressMessage, type GrpcCompression } from "./grpc-compression.js";
import { GrpcFrameBatch } from "./grpc-frame.js";
import { messageCompressionMark } from "./message-compression.js";

/** What the sink needs from its call. */
export interface GrpcSinkHost {
  readonly stream: ServerHttp2Stream;
  readonly codec: MessageCodec;
  readonly ended: boolean;
  /** Sends the response headers before the first message; returns the response's message encoding. */
  startResponse(): GrpcCompression;
  /** Ends the call with the error of a message that could not be sent, as the client will see it; returns that error. */
  failWith(err: unknown): Error;
  /** Called before DATA is written (the connection's ping policy, gRFC A8). */
  onSent(): void;
}

/**
 * The gRPC transport's {@link ResponseSink} for one call: each response
 * message is encoded with the compiled codec straight into a
 * {@link GrpcFrameBatch} slab behind its 5-byte prefix; the messages of one
 * turn of the event loop go out as one slice in one `stream.write` (at the
 * next tick, or at once when the slab is full). `write` returns false, and
 * `ready` waits, while node:http2 asks for "drain" (HTTP/2 flow control or
 * a full socket).
 */
export class GrpcResponseSink implements ResponseSink {
  readonly #batch = new GrpcFrameBatch();
  #encoding: GrpcCompression | undefined;
  #scheduled = false;
  readonly #flushTick = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(private readonly host: GrpcSinkHost) {}

  get ended(): boolean {
    return this.host.ended;
  }

  /** True once the response headers went out. */
  get started(): boolean {
    return this.#encoding !== undefined;
  }

  write(value: unknown): boolean {
    const { host } = this;
    const batch = this.#batch;
    try {
      const encoding = (this.#encoding ??= host.startResponse());
      if (encoding !== "identity" && messageCompressionMark(value as never) !== false) {
        const bytes = compressMessage(encoding, host.codec.encode(value));
        if (!batch.fits(bytes.length)) this.flush();
        batch.buf.set(bytes, batch.begin(bytes.length, true));
      } else {
        const n = host.codec.measure(value);
        if (!batch.fits(n)) this.flush();
        const pos = batch.begin(n); // before reading batch.buf: begin may start a new slab
        host.codec.writeMeasured(batch.buf, pos);
      }
    } catch (err) {
      throw host.failWith(err);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flushTick);
    }
    return !host.stream.writableNeedDrain;
  }

  ready(): Promise<void> {
    const stream = this.host.stream;
    if (!stream.writableNeedDrain || this.ended) return Promise.resolve();
    return waitForDrain(stream);
  }

  /** Writes the queued messages now. */
  flush(): void {
    const chunk = this.#batch.take();
    if (chunk === undefined) return;
    const stream = this.host.stream;
    if (stream.destroyed || stream.writableEnded) return;
    this.host.onSent();
    stream.write(chunk);
  }
}
