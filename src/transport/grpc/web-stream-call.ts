import type { JsonValue, Message } from "@bufbuild/protobuf";
import { decodeBinary, decodeJson, encodeBinary, encodeJson } from "../../contract/codec.js";
import type { AnyResponse, StreamResponse, UnaryResponse } from "../../rpc/call.js";
import type { CallContext } from "../../rpc/call-context.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Metadata } from "../../rpc/metadata.js";
import type { MethodEntry, Router } from "../../rpc/router.js";
import { createServerRequest } from "../../rpc/server-request.js";
import { AsyncQueue } from "../../util/async-queue.js";
import type { ConnectExchange } from "./connect-exchange.js";
import { GrpcFrameDecoder } from "./grpc-frame.js";
import { compressWeb, decompressWeb, type WebCompression } from "./web-compression.js";
import { Base64StreamDecoder, encodeEnvelope, FLAG_COMPRESSED } from "./web-envelope.js";
import type { WebStreamProtocol } from "./web-stream-protocol.js";

/** Request messages buffered before the request body stops being read (flow control then holds the sender). */
const REQUEST_HIGH_WATER = 16;

/** How one call's messages are encoded. */
export interface WebStreamEncoding {
  readonly request: WebCompression;
  readonly response: WebCompression;
  /** Response messages smaller than this are sent uncompressed, in bytes. */
  readonly compressMinBytes: number;
}

/**
 * Serves one call of an enveloped protocol (Connect streaming or gRPC-Web;
 * see {@link WebStreamProtocol}), any method kind, over HTTP/2 or HTTP/1.1:
 * reads the request envelopes as they arrive, dispatches through the
 * router, writes each response message as an envelope and ends with the
 * protocol's status envelope. The HTTP status is 200 once the call started:
 * errors travel in the final envelope. A deadline fails the call with
 * DEADLINE_EXCEEDED; the client going away cancels the handler.
 */
export class WebStreamCall {
  #headersSent = false;
  #done = false;
  #queue: AsyncQueue<Message> | undefined;
  #single: Message | undefined;
  #received = 0;
  readonly #decoder: GrpcFrameDecoder;
  readonly #text: Base64StreamDecoder | undefined;

  constructor(
    private readonly router: Router,
    private readonly entry: MethodEntry,
    private readonly ex: ConnectExchange,
    private readonly ctx: CallContext,
    private readonly protocol: WebStreamProtocol,
    private readonly encoding: WebStreamEncoding,
  ) {
    this.#decoder = new GrpcFrameDecoder(router.options.maxReceiveMessageBytes, (bytes, compressed) => this.#onEnvelope(bytes, compressed));
    this.#text = protocol.text ? new Base64StreamDecoder() : undefined;
  }

  /** Reads the request and serves the call; resolves once the response has ended. */
  run(): Promise<void> {
    const { ex, ctx } = this;
    return new Promise<void>((resolve) => {
      ctx.arm((reason) => {
        if (reason.code === Code.DEADLINE_EXCEEDED) this.fail(reason);
        this.#queue?.fail(reason);
      });
      ex.onAbort(() => {
        const cancelled = new FerryError(Code.CANCELLED, "call cancelled by the client");
        this.#done = true;
        this.#queue?.fail(cancelled);
        ctx.abort(cancelled);
        resolve();
      });
      this.#settled = resolve;
      const source = ex.source;
      source.on("data", (chunk: Buffer) => this.#onData(chunk));
      source.once("end", () => this.#onEnd());
      source.once("error", () => undefined);
      if (this.entry.info.requestStream) {
        const queue = new AsyncQueue<Message>({ onPull: () => queue.size < REQUEST_HIGH_WATER && source.isPaused() && source.resume() });
        this.#queue = queue;
        this.#dispatch(createServerRequest(ctx, queue));
      }
    }).finally(() => ctx.finish());
  }

  #settled: () => void = () => undefined;

  #onData(chunk: Buffer): void {
    if (this.#done) return;
    try {
      this.#decoder.push(this.#text === undefined ? chunk : this.#text.push(chunk));
    } catch (err) {
      this.fail(this.router.toWireError(err, this.ctx));
    }
  }

  #onEnvelope(bytes: Uint8Array, compressed: boolean): void {
    const { request } = this.encoding;
    if (compressed) {
      if (request === "identity") throw new FerryError(Code.INTERNAL, "compressed message received but the request names no encoding");
      bytes = decompressWeb(request, bytes, this.router.options.maxReceiveMessageBytes);
    }
    const message = this.#decode(bytes);
    this.#received++;
    const queue = this.#queue;
    if (queue === undefined) {
      if (this.#received > 1) throw new FerryError(Code.UNIMPLEMENTED, `${this.entry.info.path} takes one request message, received more`);
      this.#single = message;
      return;
    }
    queue.push(message);
    if (queue.size >= REQUEST_HIGH_WATER) this.ex.source.pause();
  }

  #decode(bytes: Uint8Array): Message {
    const input = this.entry.info.input;
    if (!this.protocol.json) return decodeBinary(input, bytes);
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")) as JsonValue;
    } catch (err) {
      throw new FerryError(Code.INVALID_ARGUMENT, `request message is not valid JSON: ${(err as Error).message}`);
    }
    return decodeJson(input, parsed);
  }

  #onEnd(): void {
    if (this.#done) return;
    if (this.#decoder.pendingBytes > 0 || this.#text?.pending === true) return this.fail(new FerryError(Code.INVALID_ARGUMENT, "request ended inside a message"));
    if (this.#queue !== undefined) return this.#queue.end();
    if (this.#single === undefined) return this.fail(new FerryError(Code.UNIMPLEMENTED, `${this.entry.info.path} takes one request message, received none`));
    this.#dispatch(createServerRequest(this.ctx, this.#single));
  }

  #dispatch(request: ReturnType<typeof createServerRequest>): void {
    this.router.serve(this.entry, request, (res) => void this.#respond(res), (err) => this.fail(err));
  }

  async #respond(res: AnyResponse): Promise<void> {
    if (this.#done) return;
    if (!res.stream) return this.#respondUnary(res);
    await this.#respondStream(res);
  }

  #respondUnary(res: UnaryResponse): void {
    let frame: Buffer;
    try {
      frame = this.#frame(res.message);
    } catch (err) {
      return this.fail(this.router.toWireError(err, this.ctx));
    }
    this.#sendHeaders(res.headers);
    this.#finish(Buffer.concat([frame, this.protocol.endFrame(undefined, res.trailers)]));
  }

  async #respondStream(res: StreamResponse): Promise<void> {
    try {
      for await (const message of this.router.normalizeStream(this.ctx, res.messages, { contextInstalled: true })) {
        if (this.#done) return;
        this.#sendHeaders(res.headers);
        if (!this.ex.write(this.#encodeOut(this.#frame(message)))) await this.ex.drained();
      }
    } catch (err) {
      return this.fail(FerryError.from(err));
    }
    if (this.#done) return;
    this.#sendHeaders(res.headers);
    this.#finish(this.protocol.endFrame(undefined, res.trailers));
  }

  #frame(message: Message): Buffer {
    const output = this.entry.info.output;
    const bytes = this.protocol.json ? Buffer.from(JSON.stringify(encodeJson(output, message))) : encodeBinary(output, message);
    const { response, compressMinBytes } = this.encoding;
    if (response === "identity" || bytes.byteLength < compressMinBytes) return encodeEnvelope(0, bytes);
    return encodeEnvelope(FLAG_COMPRESSED, compressWeb(response, bytes));
  }

  #encodeOut(bytes: Buffer): Buffer {
    return this.protocol.text ? Buffer.from(bytes.toString("base64"), "latin1") : bytes;
  }

  #sendHeaders(metadata: Metadata): void {
    if (this.#headersSent) return;
    this.#headersSent = true;
    this.ex.writeHead(200, this.protocol.responseHeaders(this.encoding.response, metadata));
  }

  #finish(last: Buffer): void {
    this.#done = true;
    this.ex.end(this.#encodeOut(last));
    this.#settled();
  }

  /** Ends the call with `error` in the final envelope (headers first if none went out). */
  fail(error: FerryError): void {
    if (this.#done) return;
    this.#queue?.fail(error);
    this.#sendHeaders(this.ctx.responseHeaders);
    this.#finish(this.protocol.endFrame(error, this.ctx.responseTrailers));
    // Stop reading a request that is still arriving: what is left is discarded.
    const source = this.ex.source;
    source.removeAllListeners("data");
    source.resume();
  }
}
