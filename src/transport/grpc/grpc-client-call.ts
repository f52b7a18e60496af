import type { Message } from "@bufbuild/protobuf";
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { decodeBinary, encodeBinary } from "../../contract/codec.js";
import type { AnyRequest, AnyResponse } from "../../rpc/call.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { encodeGrpcTimeout } from "../../rpc/grpc-timeout.js";
import { codeFromHttpStatus } from "../../rpc/http-status.js";
import { Metadata } from "../../rpc/metadata.js";
import { markHeadersReceived } from "../../rpc/response-committed.js";
import { AsyncQueue } from "../../util/async-queue.js";
import { waitForDrain } from "../../util/wait-for-drain.js";
import { compressMessage, decompressMessage, isGrpcCompression, type GrpcCompression } from "./grpc-compression.js";
import { encodeGrpcFrame, GrpcFrameDecoder } from "./grpc-frame.js";
import { errorFromStatus, readMetadata, writeMetadata } from "./grpc-headers.js";
import { markReceivedCompressed, messageCompressionMark } from "./message-compression.js";

/** Response messages buffered before the client stops reading the stream. */
const RESPONSE_HIGH_WATER = 32;

/** What a call needs from its transport. */
export interface GrpcCallEnv {
  readonly userAgent: string;
  readonly maxReceiveMessageBytes: number;
  /** Encoding of request messages. */
  readonly sendCompression: GrpcCompression;
  /** Response encodings accepted (identity always is). */
  readonly acceptCompression: readonly GrpcCompression[];
  /** The `grpc-accept-encoding` request header: `acceptCompression` and identity, comma-separated. */
  readonly acceptEncodingHeader: string;
  /** The server's SETTINGS_MAX_HEADER_LIST_SIZE on the current connection, once known. */
  remoteMaxHeaderListBytes(): number | undefined;
  /** Opens a stream on the current connection; throws UNAVAILABLE when there is none. */
  openStream(headers: OutgoingHttpHeaders): ClientHttp2Stream;
  /** A stream returned by `openStream` on `session` closed (called once per stream). */
  streamClosed(session: ClientHttp2Session | undefined): void;
  /** The error that ended `session`'s connection, if any. */
  connectionError(session: ClientHttp2Session): Error | undefined;
}

/** Maps an HTTP/2 RST_STREAM error code to a status code (gRPC PROTOCOL-HTTP2, "Errors"). */
function codeFromRst(rstCode: number): Code {
  const c = http2.constants;
  switch (rstCode) {
    case c.NGHTTP2_REFUSED_STREAM:
      return Code.UNAVAILABLE;
    case c.NGHTTP2_CANCEL:
      return Code.CANCELLED;
    case c.NGHTTP2_ENHANCE_YOUR_CALM:
      return Code.RESOURCE_EXHAUSTED;
    case c.NGHTTP2_INADEQUATE_SECURITY:
      return Code.PERMISSION_DENIED;
    default:
      return Code.INTERNAL;
  }
}

/**
 * One client call over one HTTP/2 stream. Resolves the transport's promise
 * with the response (streams: once headers arrive; unary: once complete),
 * and fails with a FerryError for every non-OK outcome.
 */
export class GrpcClientCall {
  readonly #env: GrpcCallEnv;
  readonly #request: AnyRequest;
  /** 1 for a transparent retry of a refused stream. */
  readonly #attempt: number;
  #stream: ClientHttp2Stream | undefined;
  #headers: Metadata | undefined;
  #trailers = new Metadata();
  #status: FerryError | null | undefined;
  #message: Message | undefined;
  #queue: AsyncQueue<Message> | undefined;
  #resolve: ((res: AnyResponse) => void) | undefined;
  #reject: ((err: FerryError) => void) | undefined;
  #settled = false;
  /** Response headers came in their own block (not Trailers-Only): the call is committed (gRFC A6). */
  #headersArrived = false;
  #finished = false;
  #decoder: GrpcFrameDecoder | undefined;
  #sendEncoding: GrpcCompression = "identity";
  #streamError: Error | undefined;
  #session: ClientHttp2Session | undefined;
  #responseEncoding: GrpcCompression = "identity";

  constructor(env: GrpcCallEnv, request: AnyRequest, attempt = 0) {
    this.#env = env;
    this.#request = request;
    this.#attempt = attempt;
  }

  /** Starts the call. */
  run(): Promise<AnyResponse> {
    const promise = new Promise<AnyResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const signal = this.#request.signal;
    if (signal?.aborted) {
      this.#finish(FerryError.from(signal.reason));
      return promise;
    }
    this.#open();
    return promise;
  }

  /** Opens the stream and sends the request. */
  #open(): void {
    const signal = this.#request.signal;
    let stream: ClientHttp2Stream;
    try {
      const headers = this.#requestHeaders();
      checkHeaderListSize(headers, this.#env.remoteMaxHeaderListBytes());
      stream = this.#env.openStream(headers);
    } catch (err) {
      this.#finish(err instanceof FerryError ? err : FerryError.from(err, Code.UNAVAILABLE));
      return;
    }
    this.#stream = stream;
    const session = stream.session as ClientHttp2Session | undefined;
    this.#session = session;
    this.#decoder = new GrpcFrameDecoder(this.#env.maxReceiveMessageBytes, (bytes, compressed) => this.#onFrame(bytes, compressed));
    let onAbort: (() => void) | undefined;
    if (signal !== undefined) {
      onAbort = () => this.#cancel(FerryError.from(signal.reason));
      signal.addEventListener("abort", onAbort, { once: true });
    }
    // One listener per event ("close" fires once): each listener costs per call in node:http2's emitters.
    stream.on("response", (headers) => this.#onResponse(headers));
    stream.on("data", (chunk: Buffer) => this.#onData(chunk));
    stream.on("trailers", (trailers) => this.#onTrailers(trailers));
    stream.on("error", (err) => (this.#streamError = err));
    stream.on("close", () => {
      if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
      this.#env.streamClosed(session);
      this.#onClose();
    });
    this.#sendRequest(stream);
  }

  #requestHeaders(): OutgoingHttpHeaders {
    const request = this.#request;
    const headers: OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": request.method.path,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": this.#env.userAgent,
    };
    if (request.deadline !== undefined) headers["grpc-timeout"] = encodeGrpcTimeout(request.deadline - Date.now());
    let encoding = this.#env.sendCompression;
    if (!request.stream && encoding === "identity" && messageCompressionMark(request.message) === true) encoding = "gzip";
    this.#sendEncoding = encoding;
    if (encoding !== "identity") headers["grpc-encoding"] = encoding;
    headers["grpc-accept-encoding"] = this.#env.acceptEncodingHeader;
    writeMetadata(headers, request.metadata);
    return headers;
  }

  #sendRequest(stream: ClientHttp2Stream): void {
    const request = this.#request;
    if (!request.stream) {
      stream.end(this.#frame(request.message));
      return;
    }
    void this.#pumpRequests(stream, request.messages);
  }

  async #pumpRequests(stream: ClientHttp2Stream, messages: AsyncIterable<Message>): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.#finished || stream.destroyed) return;
        if (!stream.write(this.#frame(m))) await waitForDrain(stream);
      }
      if (!stream.destroyed) stream.end();
    } catch (err) {
      this.#cancel(err instanceof FerryError ? err : new FerryError(Code.CANCELLED, `request stream failed: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
    }
  }

  /** One request message as a gRPC frame, compressed unless the call is identity or the message opted out. */
  #frame(message: Message): Buffer {
    const bytes = encodeBinary(this.#request.method.input, message);
    const encoding = this.#sendEncoding;
    if (encoding === "identity" || messageCompressionMark(message) === false) return encodeGrpcFrame(bytes);
    return encodeGrpcFrame(compressMessage(encoding, bytes), true);
  }

  #onResponse(headers: IncomingHttpHeaders): void {
    const status = Number(headers[":status"]);
    if (status !== 200) {
      return this.#cancel(new FerryError(codeFromHttpStatus(status), `HTTP status ${status} from server (not a gRPC response)`));
    }
    const ct = headers["content-type"];
    if (typeof ct !== "string" || !ct.startsWith("application/grpc")) {
      return this.#cancel(new FerryError(Code.UNKNOWN, `invalid content type "${ct ?? ""}" in gRPC response`));
    }
    if (headers["grpc-status"] !== undefined) {
      // Trailers-Only: headers and status in one block.
      this.#headers = new Metadata();
      this.#trailers = readMetadata(headers);
      this.#status = errorFromStatus(headers, this.#trailers) ?? null;
      return this.#closeWhenResponseRead();
    }
    const encoding = (headers["grpc-encoding"] as string | undefined)?.toLowerCase() ?? "identity";
    if (!isGrpcCompression(encoding) || (encoding !== "identity" && !this.#env.acceptCompression.includes(encoding))) {
      return this.#cancel(new FerryError(Code.INTERNAL, `response uses grpc-encoding "${encoding}", which this client did not accept`));
    }
    this.#responseEncoding = encoding;
    this.#headers = readMetadata(headers);
    this.#headersArrived = true;
    if (this.#request.method.responseStream) this.#resolveStream();
  }

  #resolveStream(): void {
    const stream = this.#stream!;
    const queue = new AsyncQueue<Message>({
      onPull: () => {
        if (queue.size < RESPONSE_HIGH_WATER && stream.isPaused()) stream.resume();
      },
      onCancel: () => this.#cancel(new FerryError(Code.CANCELLED, "response stream abandoned by the client")),
    });
    this.#queue = queue;
    this.#settled = true;
    this.#resolve!({ stream: true, messages: queue, headers: this.#headers!, trailers: this.#trailers });
  }

  #onData(chunk: Buffer): void {
    if (this.#finished) return;
    try {
      this.#decoder!.push(chunk);
    } catch (err) {
      this.#cancel(FerryError.from(err));
    }
  }

  #onFrame(bytes: Uint8Array, compressed: boolean): void {
    if (compressed) {
      const encoding = this.#responseEncoding;
      if (encoding === "identity") throw new FerryError(Code.INTERNAL, "compressed response message, but the response's grpc-encoding is identity");
      bytes = decompressMessage(encoding, bytes, this.#env.maxReceiveMessageBytes);
    }
    const message = decodeBinary(this.#request.method.output, bytes);
    if (compressed) markReceivedCompressed(message);
    const queue = this.#queue;
    if (queue === undefined) {
      if (this.#message !== undefined) throw new FerryError(Code.UNIMPLEMENTED, "unary response carried more than one message");
      this.#message = message;
      return;
    }
    queue.push(message);
    if (queue.size >= RESPONSE_HIGH_WATER) this.#stream?.pause();
  }

  #onTrailers(trailers: IncomingHttpHeaders): void {
    const md = readMetadata(trailers);
    // Before the response is handed out nobody holds #trailers yet: take the block as it is.
    if (!this.#settled && this.#trailers.size === 0) this.#trailers = md;
    else for (const [k, v] of md) this.#trailers.appendTrusted(k, v);
    this.#status = errorFromStatus(trailers, this.#trailers) ?? null;
    this.#closeWhenResponseRead();
  }

  /**
   * The status ends the call even while the client is still streaming requests
   * (the server answered early): once every response message is read, close the
   * stream (RST_STREAM NO_ERROR) instead of waiting for the request side to end.
   */
  #closeWhenResponseRead(): void {
    const stream = this.#stream;
    if (stream !== undefined && !stream.writableEnded) stream.once("end", () => stream.close(http2.constants.NGHTTP2_NO_ERROR));
  }

  #onClose(): void {
    if (this.#finished) return;
    const stream = this.#stream!;
    if (this.#canRetryTransparently(stream)) {
      // gRFC A6 "transparent retry": the server never saw a refused stream, so resending it is safe.
      this.#finished = this.#settled = true;
      new GrpcClientCall(this.#env, this.#request, this.#attempt + 1).run().then(this.#resolve, this.#reject);
      this.#release();
      return;
    }
    if (this.#status === undefined) {
      const connErr = this.#connectionFailure();
      const error = connErr
        ? new FerryError(Code.UNAVAILABLE, `connection failed: ${connErr.message}`, { cause: connErr })
        : new FerryError(codeFromRst(stream.rstCode ?? 0), rstMessage(stream.rstCode, this.#headers !== undefined));
      return this.#finish(error);
    }
    if (this.#status !== null) return this.#finish(this.#status);
    if (this.#decoder !== undefined && this.#decoder.pendingBytes > 0) return this.#finish(new FerryError(Code.INTERNAL, "response ended inside a message"));
    this.#finish(undefined);
  }

  /**
   * True when the stream was refused (REFUSED_STREAM, e.g. it crossed the
   * server's GOAWAY) before anything came back, the request is a single
   * message that can be sent again, and this is the first attempt.
   */
  #canRetryTransparently(stream: ClientHttp2Stream): boolean {
    return (
      this.#attempt === 0 &&
      !this.#request.stream &&
      this.#status === undefined &&
      this.#headers === undefined &&
      stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM &&
      !this.#request.signal?.aborted
    );
  }

  /**
   * The connection-level error that ended this stream, if any: the session's
   * error, a TLS or socket error delivered on the stream (directly or as the
   * cause of ERR_HTTP2_STREAM_CANCEL), or the session having been destroyed
   * under the stream (for example a rejected client certificate in TLS 1.3).
   */
  #connectionFailure(): Error | undefined {
    const sessionErr = this.#session && this.#env.connectionError(this.#session);
    if (sessionErr) return sessionErr;
    const err = this.#streamError as (Error & { code?: string; cause?: Error }) | undefined;
    if (err?.cause instanceof Error) return err.cause;
    if (err !== undefined && err.code !== "ERR_HTTP2_STREAM_ERROR") return err;
    const rst = this.#stream?.rstCode;
    if (this.#session?.destroyed && (!rst || rst === http2.constants.NGHTTP2_CANCEL)) return new Error("connection closed before the call completed");
    return undefined;
  }

  /** Cancels the call locally: RST_STREAM(CANCEL) to the server, then fails with `error`. */
  #cancel(error: FerryError): void {
    if (this.#finished) return;
    const stream = this.#stream;
    if (stream !== undefined && !stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    this.#finish(error);
  }

  #finish(error: FerryError | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#settled) {
      if (error) this.#queue?.fail(error);
      else this.#queue?.end();
    } else {
      this.#settled = true;
      this.#settle(error);
    }
    this.#release();
  }

  #settle(error: FerryError | undefined): void {
    if (error) return this.#reject!(this.#headersArrived ? markHeadersReceived(error) : error);
    if (this.#request.method.responseStream) {
      // Trailers-Only OK: a stream with no messages.
      const queue = new AsyncQueue<Message>();
      queue.end();
      this.#resolve!({ stream: true, messages: queue, headers: this.#headers ?? new Metadata(), trailers: this.#trailers });
      return;
    }
    if (this.#message === undefined) return this.#reject!(new FerryError(Code.UNIMPLEMENTED, "unary response carried no message"));
    this.#resolve!({ stream: false, message: this.#message, headers: this.#headers ?? new Metadata(), trailers: this.#trailers });
  }

  /**
   * Drops what the finished call no longer needs. The stream's listeners keep
   * this object alive until node:http2 lets go of the stream; without these
   * references the response, decoder and resolvers die young in the GC.
   */
  #release(): void {
    this.#message = undefined;
    this.#headers = undefined;
    this.#decoder = undefined;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.#queue = undefined;
  }
}

function rstMessage(code: number | undefined, headersReceived: boolean): string {
  const base = `stream closed with RST_STREAM code ${code ?? "unknown"} before a status arrived`;
  if (code === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM && !headersReceived) {
    return `${base}: the server refused the request (ENHANCE_YOUR_CALM), for example because its headers and metadata exceed the server's header list limit`;
  }
  return base;
}

/**
 * Fails fast with RESOURCE_EXHAUSTED when the request's header block is over
 * the server's SETTINGS_MAX_HEADER_LIST_SIZE (size counted as RFC 9113
 * §6.5.2: name and value octets plus 32 per field).
 */
function checkHeaderListSize(headers: OutgoingHttpHeaders, limit: number | undefined): void {
  if (limit === undefined) return;
  let size = 0;
  for (const k in headers) {
    const v = headers[k];
    if (typeof v === "string") size += k.length + v.length + 32;
    else for (const value of Array.isArray(v) ? v : [v]) size += k.length + String(value).length + 32;
  }
  if (size > limit) {
    throw new FerryError(Code.RESOURCE_EXHAUSTED, `request metadata too large: the header block is ${size} bytes, the server accepts at most ${limit} (SETTINGS_MAX_HEADER_LIST_SIZE)`);
  }
}
