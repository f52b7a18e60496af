import type { Message } from "@bufbuild/protobuf";
import { messageCodec } from "../../codec/message-codec.js";
import { decodeBinary } from "../../contract/codec.js";
import type { AnyResponse, StreamResponse, UnaryResponse } from "../../rpc/call.js";
import type { CallContext } from "../../rpc/call-context.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Metadata } from "../../rpc/metadata.js";
import type { MethodEntry, Router } from "../../rpc/router.js";
import { createServerRequest } from "../../rpc/server-request.js";
import { AsyncQueue } from "../../util/async-queue.js";
import { metadataBytes, prepareStatus, statusBytes, tooLarge, writeMetadataBlock, writeStatus } from "./native-codec.js";
import { ReceiveWindow, SendWindow } from "./native-flow.js";
import type { FrameWriter } from "./native-frame-writer.js";
import { NativeResponseSink } from "./native-response-sink.js";
import { Flag, FrameType, FRAME_HEADER_BYTES } from "./native-protocol.js";

/** What a server call needs from its connection. */
export interface ServerCallHost {
  readonly router: Router;
  readonly writer: FrameWriter;
  /** The client's per-stream receive window (its SETTINGS). */
  readonly peerWindowBytes: number;
  /** The client's MAX_FRAME_BYTES. */
  readonly peerMaxFrameBytes: number;
  /** This side's per-stream receive window. */
  readonly windowBytes: number;
  /** Forgets the stream once it is finished. */
  streamDone(id: number): void;
}

/** Sends a call's whole answer, headers and status in one HEADERS frame (an error before any response message). */
export function writeHeadersAndStatus(writer: FrameWriter, id: number, headers: Metadata | undefined, error: FerryError | undefined, trailers: Metadata): void {
  const status = prepareStatus(error, trailers);
  const hb = headers === undefined ? 2 : metadataBytes(headers);
  const pos = writer.begin(id, FrameType.HEADERS, Flag.END_STREAM, hb + statusBytes(status));
  const buf = writer.buf;
  const p = headers === undefined ? (buf.writeUInt16BE(0, pos), pos + 2) : writeMetadataBlock(buf, pos, headers);
  writeStatus(buf, p, status);
  writer.end();
}

/**
 * The server side of one call on a native connection: feeds request
 * messages to the handler (with flow-control credit returned as they are
 * read), writes the response within the client's window, and ends the call
 * with its status; a CANCEL from the client or the deadline aborts the
 * call's context.
 */
export class NativeServerCall {
  #done = false;
  #headersSent = false;
  #queue: AsyncQueue<Message> | undefined;
  #recv: ReceiveWindow | undefined;
  #sizes: number[] | undefined;
  #send: SendWindow | undefined;
  #sink: NativeResponseSink | undefined;
  /** The request message of a unary or server-streaming call whose message came in a MESSAGE frame. */
  #single: Message | undefined;

  constructor(
    private readonly host: ServerCallHost,
    readonly id: number,
    private readonly entry: MethodEntry,
    private readonly ctx: CallContext,
  ) {}

  /** Starts a call whose only request message arrived with the CALL frame. */
  startUnary(bytes: Uint8Array): void {
    let message: Message;
    try {
      message = decodeBinary(this.entry.info.input, bytes);
    } catch (err) {
      return this.fail(FerryError.from(err));
    }
    this.ctx.arm((reason) => this.#onAbort(reason));
    this.#dispatch(message);
  }

  /** Starts a call whose request messages follow in MESSAGE frames. */
  startStreaming(): void {
    const queue = new AsyncQueue<Message>({ onPull: () => this.#onPull() });
    this.#queue = queue;
    this.#recv = new ReceiveWindow(this.host.windowBytes);
    this.#sizes = [];
    this.ctx.arm((reason) => this.#onAbort(reason));
    if (this.entry.info.requestStream) this.#dispatch(queue);
  }

  /** A MESSAGE frame. `last`: the client half-closed with it. */
  onMessage(bytes: Uint8Array, last: boolean): void {
    if (this.#done) return;
    const queue = this.#queue;
    if (queue === undefined) return this.fail(new FerryError(Code.INTERNAL, "message received after the request was complete"));
    const cost = bytes.length + FRAME_HEADER_BYTES;
    this.#recv!.receive(cost);
    const max = this.host.router.options.maxReceiveMessageBytes;
    if (bytes.length > max) return this.fail(new FerryError(Code.RESOURCE_EXHAUSTED, `request message of ${bytes.length} bytes exceeds the limit of ${max} bytes`));
    let message: Message;
    try {
      message = decodeBinary(this.entry.info.input, bytes);
    } catch (err) {
      return this.fail(FerryError.from(err));
    }
    if (!this.entry.info.requestStream) {
      // A single request message sent apart from the CALL: dispatched once the client half-closes.
      if (this.#single !== undefined) return this.fail(new FerryError(Code.UNIMPLEMENTED, `${this.entry.info.path} takes one request message, received more`));
      this.#single = message;
      if (last) this.onHalfClose();
      return;
    }
    this.#sizes!.push(cost);
    queue.push(message);
    if (last) queue.end();
  }

  /** A HALF_CLOSE frame. */
  onHalfClose(): void {
    if (this.#done) return;
    if (this.#queue === undefined) return;
    if (this.entry.info.requestStream) return this.#queue.end();
    const message = this.#single;
    this.#queue = undefined;
    if (message === undefined) return this.fail(new FerryError(Code.UNIMPLEMENTED, `${this.entry.info.path} takes one request message, received none`));
    this.#dispatch(message);
  }

  /** A WINDOW_UPDATE frame. */
  onWindowUpdate(increment: number): void {
    this.#send?.grant(increment);
    this.#sink?.flushHeld();
  }

  /** A CANCEL frame, or the connection went away: aborts the handler's context. */
  cancel(error: FerryError): void {
    if (this.#done) return;
    this.#done = true;
    this.#queue?.fail(error);
    this.ctx.abort(error);
    this.#finish();
  }

  /** Ends the call with `error` and aborts the handler's context with it (server shutdown). */
  terminate(error: FerryError): void {
    if (this.#done) return;
    this.#done = true;
    this.#queue?.fail(error);
    this.ctx.abort(error);
    this.#done = false;
    this.fail(error);
  }

  /** Ends the call with `error`. */
  fail(error: FerryError): void {
    if (this.#done) return;
    this.#done = true;
    this.#queue?.fail(error);
    if (!this.#headersSent && this.#sink?.started !== true) writeHeadersAndStatus(this.host.writer, this.id, this.ctx.responseHeaders, error, this.ctx.responseTrailers);
    else this.#writeTrailers(error, this.ctx.responseTrailers);
    this.#finish();
  }

  #onPull(): void {
    if (this.#done) return;
    const inc = this.#recv!.consume(this.#sizes!.shift() ?? 0);
    if (inc > 0) {
      const w = this.host.writer;
      const pos = w.begin(this.id, FrameType.WINDOW_UPDATE, 0, 4);
      w.buf.writeUInt32BE(inc, pos);
      w.end();
    }
  }

  #dispatch(input: Message | AsyncIterable<Message>): void {
    this.host.router.serve(
      this.entry,
      createServerRequest(this.ctx, input),
      (res) => this.#respond(res),
      (err: unknown) => this.#respondError(err),
    );
  }

  // Both callbacks catch everything: an exception here (a bug) must not become an unhandled rejection.
  #respond(res: AnyResponse): void {
    if (this.#done) return;
    if (res.stream) {
      this.#respondStream(res).catch((err: unknown) => this.#internalError(err));
      return;
    }
    try {
      this.#respondUnary(res);
    } catch (err) {
      this.#internalError(err);
    }
  }

  #respondError(err: unknown): void {
    try {
      this.fail(FerryError.from(err));
    } catch (e) {
      this.#internalError(e);
    }
  }

  /** A bug of this transport while answering: logged, and the call ends with INTERNAL instead of an unhandled rejection. */
  #internalError(err: unknown): void {
    this.host.router.logger.error({ err, method: this.entry.info.path }, "native transport: failed to send a response");
    if (!this.#done) {
      this.#done = true;
      this.ctx.abort(new FerryError(Code.INTERNAL, "internal error"));
      this.#finish();
    }
  }

  #respondUnary(res: UnaryResponse): void {
    const codec = messageCodec(this.entry.info.output);
    let n: number;
    try {
      n = codec.measure(res.message);
    } catch (err) {
      return this.fail(this.host.router.toWireError(err, this.ctx));
    }
    const status = prepareStatus(undefined, res.trailers);
    const head = metadataBytes(res.headers) + statusBytes(status);
    if (head + n > this.host.peerMaxFrameBytes) return this.fail(tooLarge("response", head + n, this.host.peerMaxFrameBytes));
    const w = this.host.writer;
    const pos = w.begin(this.id, FrameType.HEADERS, Flag.END_STREAM | Flag.MESSAGE, head + n);
    codec.writeMeasured(w.buf, writeStatus(w.buf, writeMetadataBlock(w.buf, pos, res.headers), status));
    w.end();
    this.#finish();
  }

  #respondStream(res: StreamResponse): Promise<void> {
    const send = (this.#send = new SendWindow(this.host.peerWindowBytes));
    const isDone = () => this.#done;
    const sink = new NativeResponseSink(
      {
        writer: this.host.writer,
        peerMaxFrameBytes: this.host.peerMaxFrameBytes,
        codec: messageCodec(this.entry.info.output),
        window: send,
        get ended() {
          return isDone();
        },
        failWith: (err) => {
          const error = this.host.router.toWireError(err, this.ctx);
          this.fail(error);
          return error;
        },
      },
      this.id,
      res.headers,
    );
    this.#sink = sink;
    return this.host.router.pipeStream(this.ctx, res.messages, sink).then(
      () => {
        if (this.#done) return;
        this.#headersSent = sink.started;
        if (!this.#headersSent) writeHeadersAndStatus(this.host.writer, this.id, res.headers, undefined, res.trailers);
        else this.#writeTrailers(undefined, res.trailers);
        this.#finish();
      },
      (err: FerryError) => this.fail(err),
    );
  }

  #writeTrailers(error: FerryError | undefined, trailers: Metadata): void {
    const status = prepareStatus(error, trailers);
    const w = this.host.writer;
    const pos = w.begin(this.id, FrameType.TRAILERS, 0, statusBytes(status));
    writeStatus(w.buf, pos, status);
    w.end();
  }

  #onAbort(reason: FerryError): void {
    if (reason.code === Code.DEADLINE_EXCEEDED) this.fail(reason);
    this.#queue?.fail(reason);
  }

  /** Marks the call ended, after its last frame was queued (a draining connection closes once the last call finished). */
  #finish(): void {
    this.#done = true;
    this.#send?.release();
    this.ctx.finish();
    this.host.streamDone(this.id);
    // Drop references a dead call would otherwise keep alive across scavenges (see NativeClientCall.#release).
    this.#single = undefined;
    this.#recv = undefined;
    this.#sizes = undefined;
    this.#send = undefined;
    this.#sink = undefined;
  }
}
