import type { Message } from "@bufbuild/protobuf";
import type { OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { decodeBinary, encodeBinary } from "../../contract/codec.js";
import type { AnyResponse, StreamResponse, UnaryResponse } from "../../rpc/call.js";
import type { CallContext } from "../../rpc/call-context.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { Metadata } from "../../rpc/metadata.js";
import type { MethodEntry, Router } from "../../rpc/router.js";
import { createServerRequest } from "../../rpc/server-request.js";
import { AsyncQueue } from "../../util/async-queue.js";
import { ACCEPT_ENCODING_HEADER, compressMessage, decompressMessage, type GrpcCompression } from "./grpc-compression.js";
import { encodeGrpcFrame, GrpcFrameDecoder } from "./grpc-frame.js";
import { statusTrailers, writeMetadata } from "./grpc-headers.js";
import { grpcResponseCompression, markReceivedCompressed, messageCompressionMark } from "./message-compression.js";

/** Queued response bytes that are written at once instead of on the next tick. */
const STREAM_BATCH_BYTES = 64 * 1024;

/** Request messages buffered per stream before the transport stops reading (HTTP/2 flow control then holds the sender). */
const REQUEST_HIGH_WATER = 16;

const noTrailers = new Metadata();

const baseResponseHeaders = Object.freeze({ ":status": 200, "content-type": "application/grpc", "grpc-accept-encoding": ACCEPT_ENCODING_HEADER });
const plainResponseHeaders = Object.freeze({ ":status": 200, "content-type": "application/grpc" });

/**
 * Response headers for a gRPC call: `:status` 200, the content type,
 * `grpc-encoding` when responses are compressed, custom metadata and, when
 * `advertise` is true, `grpc-accept-encoding` (the encodings the server
 * accepts). gRPC doc/compression.md asks for the latter where a client needs
 * it: with a compressed request, and (always sent there) with the
 * UNIMPLEMENTED answer to an unsupported encoding. Leaving it off the other
 * responses saves node:http2 a header per call on both sides.
 */
export function responseHeaders(metadata: Metadata, encoding: GrpcCompression = "identity", advertise = true): OutgoingHttpHeaders {
  const base = advertise ? baseResponseHeaders : plainResponseHeaders;
  if (metadata.size === 0 && encoding === "identity") return base;
  const headers: OutgoingHttpHeaders = { ...base };
  if (encoding !== "identity") headers["grpc-encoding"] = encoding;
  writeMetadata(headers, metadata);
  return headers;
}

/**
 * Sends a Trailers-Only response (gRPC PROTOCOL-HTTP2): one HEADERS frame
 * with `:status`, the content type and the status, ending the stream.
 */
export function sendTrailersOnly(stream: ServerHttp2Stream, error: FerryError, headerMetadata?: Metadata, trailers?: Metadata): void {
  if (stream.destroyed || stream.closed) return;
  const block: OutgoingHttpHeaders = { ...baseResponseHeaders };
  if (headerMetadata) writeMetadata(block, headerMetadata);
  Object.assign(block, statusTrailers(error, trailers ?? noTrailers));
  try {
    stream.respond(block, { endStream: true });
  } catch {
    // the stream was reset while we answered; nothing left to tell
  }
}

/** How one call's messages are compressed. */
export interface GrpcCallCompression {
  /** The request's `grpc-encoding` (already checked to be supported). */
  readonly requestEncoding: GrpcCompression;
  /** Encodings the client accepts (`grpc-accept-encoding`, plus identity). */
  readonly acceptEncodings: ReadonlySet<string>;
  /** The server's default response encoding. */
  readonly sendCompression: GrpcCompression;
}

/**
 * Serves one gRPC call on one HTTP/2 stream: reads the request messages,
 * dispatches through the router, writes the response and its status, and
 * turns client resets and deadlines into the context's cancellation.
 */
export class GrpcServerCall {
  #sendEncoding: GrpcCompression = "identity";
  #headersSent = false;
  #done = false;
  #finalTrailers: OutgoingHttpHeaders | undefined;
  #queue: AsyncQueue<Message> | undefined;
  #unaryMessage: Message | undefined;
  #messagesReceived = 0;
  readonly #decoder: GrpcFrameDecoder;
  #dispatched = false;
  #settled = false;
  /** Framed response messages not yet written (see #send). */
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #flushScheduled = false;
  /** Called once the handler is done (or was never started and the stream closed): frees the connection's handler slot. */
  onSettled: (() => void) | undefined;
  /** Called when the call writes HEADERS or DATA (the connection's ping policy, gRFC A8). */
  onSent: (() => void) | undefined;

  constructor(
    private readonly router: Router,
    private readonly entry: MethodEntry,
    private readonly stream: ServerHttp2Stream,
    private readonly ctx: CallContext,
    private readonly compression: GrpcCallCompression,
  ) {
    this.#decoder = new GrpcFrameDecoder(router.options.maxReceiveMessageBytes, (bytes, compressed) => this.#onFrame(bytes, compressed));
  }

  /**
   * Starts reading the request and serving the call. The transport owns the
   * stream's "error" and "close" listeners (one each per stream) and calls
   * {@link closed} when the stream closes.
   */
  start(): void {
    const { stream, ctx } = this;
    stream.on("wantTrailers", () => this.#sendFinalTrailers());
    ctx.arm((reason) => this.#onAbort(reason));
    stream.on("data", (chunk: Buffer) => this.#onData(chunk));
    if (this.entry.info.requestStream) {
      const queue = new AsyncQueue<Message>({
        onPull: () => {
          if (queue.size < REQUEST_HIGH_WATER && stream.isPaused()) stream.resume();
        },
      });
      this.#queue = queue;
      stream.on("end", () => queue.end());
      this.#dispatch(createServerRequest(ctx, queue));
    } else {
      stream.on("end", () => this.#onUnaryRequestEnd());
    }
  }

  #onData(chunk: Buffer): void {
    if (this.#done) return;
    try {
      this.#decoder.push(chunk);
    } catch (err) {
      this.#fail(FerryError.from(err));
    }
  }

  #onFrame(bytes: Uint8Array, compressed: boolean): void {
    if (compressed) {
      const encoding = this.compression.requestEncoding;
      if (encoding === "identity") throw new FerryError(Code.INTERNAL, "compressed message received but the request's grpc-encoding is identity");
      bytes = decompressMessage(encoding, bytes, this.router.options.maxReceiveMessageBytes);
    }
    const message = decodeBinary(this.entry.info.input, bytes);
    if (compressed) markReceivedCompressed(message);
    this.#messagesReceived++;
    const queue = this.#queue;
    if (queue === undefined) {
      if (this.#messagesReceived > 1) throw new FerryError(Code.UNIMPLEMENTED, `${this.entry.info.path} takes one request message, received more`);
      this.#unaryMessage = message;
      return;
    }
    queue.push(message);
    if (queue.size >= REQUEST_HIGH_WATER) this.stream.pause();
  }

  #onUnaryRequestEnd(): void {
    if (this.#done) return;
    if (this.#decoder.pendingBytes > 0) return this.#fail(new FerryError(Code.INTERNAL, "request ended inside a message"));
    if (this.#unaryMessage === undefined) return this.#fail(new FerryError(Code.UNIMPLEMENTED, `${this.entry.info.path} takes one request message, received none`));
    this.#dispatch(createServerRequest(this.ctx, this.#unaryMessage));
  }

  #dispatch(request: ReturnType<typeof createServerRequest>): void {
    this.#dispatched = true;
    // One reaction per call (no .finally chain): every promise costs in the allocator and in async hooks.
    // serve() runs the reactions inside the call's context, so a streamed response is iterated without re-entering it per message.
    this.router.serve(
      this.entry,
      request,
      (res) => this.#respond(res),
      (err: FerryError) => {
        this.#fail(err);
        this.#settle();
      },
    );
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onSettled?.();
  }

  #respond(res: AnyResponse): void {
    if (this.#done || !res.stream) {
      try {
        if (!this.#done) this.#respondUnary(res as UnaryResponse);
      } finally {
        this.#settle();
      }
      return;
    }
    void this.#respondStream(res).finally(() => this.#settle());
  }

  #respondUnary(res: UnaryResponse): void {
    let frame: Buffer;
    try {
      this.#chooseEncoding();
      frame = this.#frame(res.message);
    } catch (err) {
      return this.#fail(this.router.toWireError(err, this.ctx));
    }
    this.#finalTrailers = statusTrailers(undefined, res.trailers);
    this.#sendHeaders(res.headers);
    this.#done = true;
    this.stream.end(frame);
  }

  async #respondStream(res: StreamResponse): Promise<void> {
    const { stream, ctx } = this;
    try {
      for await (const message of this.router.normalizeStream(ctx, res.messages, { contextInstalled: true })) {
        if (this.#done) return;
        if (!this.#headersSent) {
          this.#chooseEncoding();
          this.#sendHeaders(res.headers);
        }
        if (!this.#send(this.#frame(message))) await waitDrain(stream);
      }
    } catch (err) {
      return this.#fail(FerryError.from(err));
    }
    if (this.#done) return;
    this.#finalTrailers = statusTrailers(undefined, res.trailers);
    if (!this.#headersSent) this.#sendHeaders(res.headers);
    this.#done = true;
    this.#flush();
    stream.end();
  }

  /**
   * Queues one framed response message. The messages a handler yields within
   * one turn of the event loop go out as one buffer in one write (flushed on
   * the next tick, or at once past STREAM_BATCH_BYTES): a write per message
   * costs more in node:http2 than copying 100 bytes. Returns false when the
   * caller should wait for "drain" (HTTP/2 flow control or a full socket).
   */
  #send(frame: Buffer): boolean {
    this.#batch.push(frame);
    this.#batchBytes += frame.byteLength;
    if (this.#batchBytes >= STREAM_BATCH_BYTES) return this.#flush();
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flushTick);
    }
    return true;
  }

  /** Writes the queued messages; returns what `write` returned. */
  #flush(): boolean {
    const batch = this.#batch;
    if (batch.length === 0) return true;
    const chunk = batch.length === 1 ? batch[0] : Buffer.concat(batch, this.#batchBytes);
    this.#batch = [];
    this.#batchBytes = 0;
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) return true;
    this.onSent?.();
    return stream.write(chunk);
  }

  readonly #flushTick = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };

  /** Fixes the response encoding: the handler's choice or the server's, if the client accepts it. */
  #chooseEncoding(): void {
    const wanted = this.ctx.values.get(grpcResponseCompression) ?? this.compression.sendCompression;
    this.#sendEncoding = this.compression.acceptEncodings.has(wanted) ? wanted : "identity";
  }

  /** One response message as a gRPC frame, compressed unless the call is identity or the message opted out. */
  #frame(message: Message): Buffer {
    const bytes = encodeBinary(this.entry.info.output, message);
    const encoding = this.#sendEncoding;
    if (encoding === "identity" || messageCompressionMark(message) === false) return encodeGrpcFrame(bytes);
    return encodeGrpcFrame(compressMessage(encoding, bytes), true);
  }

  #sendHeaders(metadata: Metadata): void {
    this.#headersSent = true;
    this.onSent?.();
    try {
      this.stream.respond(responseHeaders(metadata, this.#sendEncoding, this.compression.requestEncoding !== "identity"), { waitForTrailers: true });
    } catch {
      this.#done = true;
    }
  }

  #sendFinalTrailers(): void {
    const trailers = this.#finalTrailers ?? statusTrailers(new FerryError(Code.INTERNAL, "call ended without status"), this.ctx.responseTrailers);
    try {
      this.stream.sendTrailers(trailers);
    } catch {
      // stream already closed by the peer
    }
  }

  /** Ends the call with `error`: Trailers-Only if no headers went out yet, else trailers after the messages. */
  #fail(error: FerryError): void {
    if (this.#done) return;
    this.#done = true;
    this.#queue?.fail(error);
    if (!this.#headersSent) {
      sendTrailersOnly(this.stream, error, this.ctx.responseHeaders, this.ctx.responseTrailers);
      return;
    }
    this.#finalTrailers = statusTrailers(error, this.ctx.responseTrailers);
    this.#flush();
    if (!this.stream.writableEnded) this.stream.end();
  }

  #onAbort(reason: FerryError): void {
    if (reason.code === Code.DEADLINE_EXCEEDED) this.#fail(reason);
    this.#queue?.fail(reason);
  }

  /** The stream closed (sent, reset or connection lost): cancels the handler if it is still running. */
  closed(): void {
    if (!this.#dispatched) this.#settle();
    if (!this.#done) {
      this.#done = true;
      const cancelled = clientResetError(this.ctx.deadline);
      this.#queue?.fail(cancelled);
      this.ctx.abort(cancelled);
    }
    this.ctx.finish();
  }
}

function waitDrain(stream: ServerHttp2Stream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

/**
 * A client reset (RST_STREAM CANCEL) that arrives when the call's deadline is
 * reached, within {@link DEADLINE_SKEW_MS}, is the client's deadline firing:
 * HTTP/2 cannot say so, but the handler should see DEADLINE_EXCEEDED, as it
 * would had the server's own timer fired first. Any other reset is CANCELLED.
 */
function clientResetError(deadline: number | undefined): FerryError {
  if (deadline !== undefined && Date.now() >= deadline - DEADLINE_SKEW_MS) {
    return new FerryError(Code.DEADLINE_EXCEEDED, "deadline exceeded (the client cancelled the call at its deadline)");
  }
  return new FerryError(Code.CANCELLED, "call cancelled by the client");
}

/** How early a client reset may come and still count as the deadline (timers on both sides race), in ms. */
const DEADLINE_SKEW_MS = 50;
