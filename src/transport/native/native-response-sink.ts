import type { MessageCodec } from "../../codec/message-codec.js";
import type { Metadata } from "../../rpc/metadata.js";
import type { ResponseSink } from "../../rpc/response-stream.js";
import { metadataBytes, tooLarge, writeMetadataBlock } from "./native-codec.js";
import type { SendWindow } from "./native-flow.js";
import type { FrameWriter } from "./native-frame-writer.js";
import { Flag, FrameType, FRAME_HEADER_BYTES } from "./native-protocol.js";

/** What the sink needs from its call. */
export interface NativeSinkHost {
  readonly writer: FrameWriter;
  readonly peerMaxFrameBytes: number;
  readonly codec: MessageCodec;
  readonly window: SendWindow;
  readonly ended: boolean;
  /** Ends the call with the error of a message that could not be sent, as the client will see it; returns that error. */
  failWith(err: unknown): Error;
}

/**
 * The native transport's {@link ResponseSink} for one call: encodes each
 * response message straight into the connection's frame slab (HEADERS with
 * the first message, then MESSAGE frames; the writer sends every frame of
 * one event-loop turn in one write), within the client's flow-control
 * window. A message sent while the window is closed is encoded at once and
 * held here, then written as credit arrives, so the peer's window is never
 * overrun (docs/protocol.md, "Flow control").
 */
export class NativeResponseSink implements ResponseSink {
  #headers: Metadata | undefined;
  #held: Uint8Array[] = [];

  constructor(
    private readonly host: NativeSinkHost,
    private readonly id: number,
    headers: Metadata,
  ) {
    this.#headers = headers;
  }

  get ended(): boolean {
    return this.host.ended;
  }

  /** True once the first message (with the response headers) was queued. */
  get started(): boolean {
    return this.#headers === undefined;
  }

  write(value: unknown): boolean {
    const { host } = this;
    const window = host.window;
    try {
      if (this.#headers === undefined && (this.#held.length > 0 || !window.open)) {
        const bytes = host.codec.encode(value);
        this.#checkSize(bytes.length);
        this.#held.push(bytes);
        return false;
      }
      this.#writeNow(value);
    } catch (err) {
      throw host.failWith(err);
    }
    return window.open && !host.writer.congested;
  }

  async ready(): Promise<void> {
    const { window, writer } = this.host;
    while (!this.ended && (this.#held.length > 0 || !window.open || writer.congested)) {
      if (!window.open) await window.wait();
      else if (this.#held.length > 0) this.#writeHeld();
      else {
        await writer.waitDrain();
        // Still congested after waitDrain resolved: the writer was closed (the connection is going away).
        if (writer.congested) return;
      }
    }
  }

  /** Resolves once no message is held any more (written within the window), or the call ended. */
  async settle(): Promise<void> {
    const window = this.host.window;
    while (!this.ended && this.#held.length > 0) {
      if (window.open) this.#writeHeld();
      else await window.wait();
    }
  }

  /** Writes held messages while the window is open (called on WINDOW_UPDATE too). */
  flushHeld(): void {
    if (this.#held.length > 0 && !this.ended) this.#writeHeld();
  }

  #writeHeld(): void {
    const { window, writer } = this.host;
    const held = this.#held;
    let i = 0;
    while (i < held.length && window.open) {
      writer.frame(this.id, FrameType.MESSAGE, 0, held[i]);
      window.consume(held[i].length + FRAME_HEADER_BYTES);
      i++;
    }
    held.splice(0, i);
  }

  #writeNow(value: unknown): void {
    const { codec, writer } = this.host;
    const n = codec.measure(value);
    const headers = this.#headers;
    if (headers === undefined) {
      this.#checkSize(n);
      const pos = writer.begin(this.id, FrameType.MESSAGE, 0, n); // before reading writer.buf: begin may start a new slab
      codec.writeMeasured(writer.buf, pos);
    } else {
      const head = metadataBytes(headers);
      this.#checkSize(head + n);
      const pos = writer.begin(this.id, FrameType.HEADERS, Flag.MESSAGE, head + n);
      codec.writeMeasured(writer.buf, writeMetadataBlock(writer.buf, pos, headers));
      this.#headers = undefined;
    }
    writer.end();
    this.host.window.consume(n + FRAME_HEADER_BYTES);
  }

  #checkSize(n: number): void {
    if (n > this.host.peerMaxFrameBytes) throw tooLarge("response message", n, this.host.peerMaxFrameBytes);
  }
}
