import type { Message } from "@bufbuild/protobuf";
import type { OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { messageCodec } from "../../codec/message-codec.js";
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
import { encodeGrpcFrame, GRPC_PREFIX_BYTES, GrpcFrameDecoder } from "./grpc-frame.js";
import { GrpcResponseSink } from "./grpc-response-sink.js";
import { statusTrailers, writeMetadata } from "./grpc-headers.js";
import { grpcResponseCompression, markReceivedCompressed, messageCompressionMark } from "./message-compression.js";

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
  /** The streamed response's sink (its queued messages are written before the trailers). */
  #sink: GrpcResponseSink | undefined;
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

  #respondStream(res: StreamResponse): Promise<void> {
    const isDone = () => this.#done;
    const sink = new GrpcResponseSink({
      stream: this.stream,
      codec: messageCodec(this.entry.info.output),
      get ended() {
        return isDone();
      },
      startResponse: () => {
        this.#chooseEncoding();
        this.#sendHeaders(res.headers);
        return this.#sendEncoding;
      },
      failWith: (err) => {
        const error = this.router.toWireError(err, this.ctx);
        this.#fail(error);
        return error;
      },
      onSent: () => this.onSent?.(),
    });
    this.#sink = sink;
    return this.router.pipeStream(this.ctx, res.messages, sink).then(
      () => {
        if (this.#done) return;
        this.#finalTrailers = statusTrailers(undefined, res.trailers);
        if (!this.#headersSent) this.#sendHeaders(res.headers);
        this.#done = true;
        sink.flush();
        this.stream.end();
      },
      (err: FerryError) => this.#fail(err),
    );
  }

  /** Fixes the response encoding: the handler's choice or the server's, if the client accepts it. */
  #chooseEncoding(): void {
    const wanted = this.ctx.values.get(grpcResponseCompression) ?? this.compression.sendCompression;
    this.#sendEncoding = this.compression.acceptEncodings.has(wanted) ? wanted : "identity";
  }

  /** The unary response message as a gRPC frame (encoded into its one buffer), compressed unless the call is identity or the message opted out. */
  #frame(message: Message): Buffer {
    const encoding = this.#sendEncoding;
    if (encoding !== "identity" && messageCompressionMark(message) !== false) {
      return encodeGrpcFrame(compressMessage(encoding, encodeBinary(this.entry.info.output, message)), true);
    }
    const codec = messageCodec(this.entry.info.output);
    const n = codec.measure(message);
    const frame = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + n);
    frame[0] = 0;
    frame.writeUInt32BE(n, 1);
    codec.writeMeasured(frame, GRPC_PREFIX_BYTES);
    return frame;
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
    this.#sink?.flush();
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
