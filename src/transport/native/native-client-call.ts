import type { Message } from "@bufbuild/protobuf";
import { decodeBinary, encodeBinary } from "../../contract/codec.js";
import type { AnyRequest, AnyResponse } from "../../rpc/call.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { Metadata } from "../../rpc/metadata.js";
import { AsyncQueue } from "../../util/async-queue.js";
import { PayloadReader, readMetadataBlock, readStatus, tooLarge } from "./native-codec.js";
import { ReceiveWindow, SendWindow } from "./native-flow.js";
import type { FrameWriter } from "./native-frame-writer.js";
import { Flag, FrameType, FRAME_HEADER_BYTES } from "./native-protocol.js";

const noop = (): void => undefined;

/** Length of an empty metadata block followed by a bare OK status section (all zero bytes). */
const BARE_OK_BYTES = 13;

/** True when the payload starts with {@link BARE_OK_BYTES} zero bytes: no headers, status OK, no message, details or trailers. */
function isBareOk(buf: Buffer, start: number, end: number): boolean {
  return end - start >= BARE_OK_BYTES && buf.readUInt32BE(start) === 0 && buf.readUInt32BE(start + 4) === 0 && buf.readUInt32BE(start + 8) === 0 && buf[start + 12] === 0;
}

/** What a client call needs from its connection. */
export interface ClientCallHost {
  readonly writer: FrameWriter;
  /** The server's per-stream receive window. */
  readonly peerWindowBytes: number;
  /** The server's MAX_FRAME_BYTES. */
  readonly peerMaxFrameBytes: number;
  /** This side's per-stream receive window. */
  readonly windowBytes: number;
  readonly maxReceiveMessageBytes: number;
  /** Forgets the stream once it ended. */
  streamDone(id: number): void;
}

/**
 * The client side of one call on a native connection. Resolves with the
 * response (unary: once complete; streams: once response headers arrive) and
 * fails with a FerryError for every non-OK outcome; a cancelled call sends
 * CANCEL with the reason's code.
 */
export class NativeClientCall {
  id = 0;
  host: ClientCallHost | undefined;
  readonly promise: Promise<AnyResponse>;
  #resolve!: (res: AnyResponse) => void;
  #reject!: (err: FerryError) => void;
  #settled = false;
  #finished = false;
  #headers: Metadata | undefined;
  #trailers = new Metadata();
  #message: Message | undefined;
  #queue: AsyncQueue<Message> | undefined;
  #recv: ReceiveWindow | undefined;
  #sizes: number[] | undefined;
  #send: SendWindow | undefined;
  #onAbort: (() => void) | undefined;

  constructor(readonly request: AnyRequest) {
    this.promise = new Promise<AnyResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const signal = request.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.finish(FerryError.from(signal.reason));
      else {
        this.#onAbort = () => this.cancel(FerryError.from(signal.reason));
        signal.addEventListener("abort", this.#onAbort, { once: true });
      }
    }
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Called once the CALL frame was written on stream `id`: sends the request stream, if any. */
  started(host: ClientCallHost, id: number): void {
    this.host = host;
    this.id = id;
    if (this.request.stream) {
      this.#send = new SendWindow(host.peerWindowBytes);
      void this.#pumpRequests(host, this.request.messages);
    }
  }

  async #pumpRequests(host: ClientCallHost, messages: AsyncIterable<Message>): Promise<void> {
    const w = host.writer;
    const input = this.request.method.input;
    const send = this.#send!;
    try {
      for await (const m of messages) {
        if (this.#finished) return;
        const bytes = encodeBinary(input, m);
        if (bytes.length > host.peerMaxFrameBytes) return this.cancel(tooLarge("request message", bytes.length, host.peerMaxFrameBytes));
        w.frame(this.id, FrameType.MESSAGE, 0, bytes);
        send.consume(bytes.length + FRAME_HEADER_BYTES);
        if (!send.open) await send.wait();
        if (w.congested) await w.waitDrain();
        if (this.#finished) return;
      }
      if (!this.#finished) w.frame(this.id, FrameType.HALF_CLOSE, 0);
    } catch (err) {
      this.cancel(err instanceof FerryError ? err : new FerryError(Code.CANCELLED, `request stream failed: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
    }
  }

  /** A HEADERS frame: response metadata, then the status (END_STREAM) and a message (MESSAGE). */
  onHeaders(flags: number, buf: Buffer, start: number, end: number): void {
    if (this.#finished || this.#headers !== undefined) return this.#protocolFailure("duplicate HEADERS");
    if (flags === (Flag.END_STREAM | Flag.MESSAGE) && isBareOk(buf, start, end)) {
      // The common unary answer: no headers, status OK without message, details or trailers, then the message.
      this.#headers = new Metadata();
      this.onMessage(buf.subarray(start + BARE_OK_BYTES, end));
      return this.finish(undefined);
    }
    const r = new PayloadReader(buf, start, end);
    this.#headers = readMetadataBlock(r);
    const error = (flags & Flag.END_STREAM) !== 0 ? readStatus(r, this.#trailers) : null;
    if (this.request.method.responseStream) this.#openStream();
    if ((flags & Flag.MESSAGE) !== 0) this.onMessage(r.rest());
    if (error !== null) this.finish(error);
  }

  /** A MESSAGE frame. */
  onMessage(bytes: Buffer): void {
    if (this.#finished) return;
    if (this.#headers === undefined) return this.#protocolFailure("MESSAGE before HEADERS");
    const max = this.host!.maxReceiveMessageBytes;
    if (bytes.length > max) return this.cancel(new FerryError(Code.RESOURCE_EXHAUSTED, `response message of ${bytes.length} bytes exceeds the limit of ${max} bytes`));
    let message: Message;
    try {
      message = decodeBinary(this.request.method.output, bytes);
    } catch (err) {
      return this.cancel(FerryError.from(err));
    }
    const queue = this.#queue;
    if (queue === undefined) {
      if (this.#message !== undefined) return this.cancel(new FerryError(Code.UNIMPLEMENTED, "unary response carried more than one message"));
      this.#message = message;
      return;
    }
    const cost = bytes.length + FRAME_HEADER_BYTES;
    this.#recv!.receive(cost);
    this.#sizes!.push(cost);
    queue.push(message);
  }

  /** A TRAILERS frame: the status ends the call. */
  onTrailers(buf: Buffer, start: number, end: number): void {
    if (this.#finished) return;
    if (this.#headers === undefined) this.#headers = new Metadata();
    this.finish(readStatus(new PayloadReader(buf, start, end), this.#trailers));
  }

  /** A WINDOW_UPDATE frame. */
  onWindowUpdate(increment: number): void {
    this.#send?.grant(increment);
  }

  /** Cancels the call: CANCEL to the server (with the reason's code), then fails with `error`. */
  cancel(error: FerryError): void {
    if (this.#finished) return;
    const host = this.host;
    if (host !== undefined) {
      const reason = Buffer.from(error.rawMessage.slice(0, 256), "utf8");
      const pos = host.writer.begin(this.id, FrameType.CANCEL, 0, 1 + reason.length);
      host.writer.buf[pos] = error.code === Code.DEADLINE_EXCEEDED ? Code.DEADLINE_EXCEEDED : Code.CANCELLED;
      reason.copy(host.writer.buf, pos + 1);
      host.writer.end();
    }
    this.finish(error);
  }

  #protocolFailure(what: string): void {
    this.cancel(new FerryError(Code.INTERNAL, `protocol error from server: ${what}`));
  }

  #openStream(): void {
    const host = this.host!;
    this.#recv = new ReceiveWindow(host.windowBytes);
    this.#sizes = [];
    const queue = new AsyncQueue<Message>({
      onPull: () => this.#onPull(),
      onCancel: () => this.cancel(new FerryError(Code.CANCELLED, "response stream abandoned by the client")),
    });
    this.#queue = queue;
    this.#settled = true;
    this.#resolve({ stream: true, messages: queue, headers: this.#headers!, trailers: this.#trailers });
  }

  #onPull(): void {
    if (this.#finished) return;
    const inc = this.#recv!.consume(this.#sizes!.shift() ?? 0);
    if (inc > 0) {
      const w = this.host!.writer;
      const pos = w.begin(this.id, FrameType.WINDOW_UPDATE, 0, 4);
      w.buf.writeUInt32BE(inc, pos);
      w.end();
    }
  }

  /** Ends the call: `undefined` for OK. */
  finish(error: FerryError | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#send?.release();
    if (this.#onAbort !== undefined) this.request.signal!.removeEventListener("abort", this.#onAbort);
    if (this.host !== undefined) this.host.streamDone(this.id);
    const queue = this.#queue;
    const resolve = this.#resolve;
    const reject = this.#reject;
    const outcome = this.#settled ? undefined : this.#outcome(error);
    this.#release();
    if (outcome === undefined) {
      if (error) queue?.fail(error);
      else queue?.end();
      return;
    }
    this.#settled = true;
    if (outcome instanceof FerryError) reject(outcome);
    else resolve(outcome);
  }

  /** The response (or error) a call that has not resolved yet settles with. */
  #outcome(error: FerryError | undefined): AnyResponse | FerryError {
    if (error) return error;
    const headers = this.#headers ?? new Metadata();
    if (this.request.method.responseStream) {
      const queue = new AsyncQueue<Message>();
      queue.end();
      return { stream: true, messages: queue, headers, trailers: this.#trailers };
    }
    if (this.#message === undefined) return new FerryError(Code.UNIMPLEMENTED, "unary response carried no message");
    return { stream: false, message: this.#message, headers, trailers: this.#trailers };
  }

  /**
   * Drops what a finished call references. A call that lived across a
   * garbage collection may sit, dead, in V8's old generation; if it still
   * pointed at the response and the caller's promise, every young object
   * reachable from them would survive scavenges until the next full GC.
   * Clearing them cut the client's CPU per call by more than half under load.
   */
  #release(): void {
    this.#message = undefined;
    this.#headers = undefined;
    this.#queue = undefined;
    this.#recv = undefined;
    this.#sizes = undefined;
    this.#send = undefined;
    this.#onAbort = undefined;
    this.#resolve = noop;
    this.#reject = noop;
  }
}
