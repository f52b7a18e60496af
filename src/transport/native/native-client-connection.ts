import type { Socket } from "node:net";
import { encodeBinary } from "../../contract/codec.js";
import type { MethodInfo } from "../../contract/method-info.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { metadataBytes, ProtocolError, readCancel, readWindowIncrement, tooLarge, writeMetadataBlock } from "./native-codec.js";
import { NativeConnection, type ConnectionOptions } from "./native-connection.js";
import type { NativeClientCall, ClientCallHost } from "./native-client-call.js";
import { Flag, FrameType, GoAwayCode, MAX_STREAM_ID, MAX_VERSION, MIN_VERSION } from "./native-protocol.js";

const MAX_TIMEOUT_MS = 0xffffffff;

/**
 * The client end of one native connection: opens a stream per call, gives
 * each method a per-connection id after its first call (later CALL frames
 * carry 4 bytes instead of the path), queues calls above the server's
 * concurrent-stream limit, and fails calls with UNAVAILABLE when the
 * connection is lost or the server refuses them while draining.
 */
export class NativeClientConnection extends NativeConnection implements ClientCallHost {
  readonly #calls = new Map<number, NativeClientCall>();
  readonly #methodIds = new Map<MethodInfo, number>();
  readonly #waiting: NativeClientCall[] = [];
  #nextStreamId = 1;
  #nextMethodId = 0;
  #readyWaiters: ((err?: FerryError) => void)[] = [];
  /** True once the server sent GOAWAY or stream ids ran out: no new calls go here. */
  goingAway = false;
  #refd = true;

  constructor(
    socket: Socket,
    options: ConnectionOptions,
    readonly maxReceiveMessageBytes: number,
  ) {
    super(socket, options, true);
    this.sendPreface(MIN_VERSION, MAX_VERSION);
  }

  get peerWindowBytes(): number {
    return this.peerSettings.initialWindowBytes;
  }

  get peerMaxFrameBytes(): number {
    return this.peerSettings.maxFrameBytes;
  }

  get windowBytes(): number {
    return this.options.settings.initialWindowBytes;
  }

  /** Calls in flight or waiting for a stream. */
  get load(): number {
    return this.#calls.size + this.#waiting.length;
  }

  /** True while the connection can take new calls. */
  get usable(): boolean {
    return !this.goingAway && this.closedReason === undefined;
  }

  protected checkPeerPreface(version: number): void {
    if (version < MIN_VERSION || version > MAX_VERSION) {
      throw new ProtocolError(`server chose protocol version ${version}; this client speaks ${MIN_VERSION}-${MAX_VERSION}`, GoAwayCode.UNSUPPORTED_VERSION);
    }
  }

  protected onReady(): void {
    this.writer.release();
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const w of waiters) w();
    this.#updateRef();
  }

  /** Resolves once the handshake completed; rejects with UNAVAILABLE if the connection failed first. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.closedReason !== undefined) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      this.#readyWaiters.push((err) => (err ? reject(err) : resolve()));
      this.#updateRef();
    });
  }

  /** Keeps the process alive while calls are in flight, not while idle. */
  #updateRef(): void {
    const busy = this.#calls.size > 0 || this.#waiting.length > 0 || this.#readyWaiters.length > 0;
    if (busy !== this.#refd) {
      this.#refd = busy;
      if (busy) this.socket.ref();
      else this.socket.unref();
    }
  }

  /**
   * Stops taking new calls; closes once the calls in flight ended.
   * @param reason - logged and given to calls still waiting.
   */
  shutdown(reason: string): void {
    this.goingAway = true;
    if (this.#calls.size === 0) this.close(reason, GoAwayCode.NO_ERROR);
  }

  /** Starts `call` on a new stream, or queues it while the server's concurrent-stream limit is reached. */
  start(call: NativeClientCall): void {
    if (call.finished) return;
    if (this.closedReason !== undefined) return call.finish(this.#closedError());
    if (this.#calls.size >= this.peerSettings.maxConcurrentStreams) {
      this.#waiting.push(call);
      if (!this.#refd) this.#updateRef();
      return;
    }
    const id = this.#nextStreamId++;
    if (this.#nextStreamId > MAX_STREAM_ID) this.goingAway = true;
    const req = call.request;
    let bytes: Uint8Array | undefined;
    try {
      bytes = req.stream ? undefined : encodeBinary(req.method.input, req.message);
    } catch (err) {
      return call.finish(FerryError.from(err, Code.INTERNAL));
    }
    const refused = this.#writeCall(id, call, bytes);
    if (refused !== undefined) return call.finish(refused);
    this.#calls.set(id, call);
    this.countBatchedFrame();
    if (!this.#refd) this.#updateRef();
    call.started(this, id);
  }

  /**
   * Writes the CALL frame. Returns an error instead, writing nothing, when the
   * frame would exceed the server's MAX_FRAME_BYTES (which would cost the
   * whole connection).
   */
  #writeCall(id: number, call: NativeClientCall, message: Uint8Array | undefined): FerryError | undefined {
    const { method, metadata, deadline } = call.request;
    let flags = message === undefined ? 0 : Flag.MESSAGE | Flag.END_STREAM;
    let mid = this.#methodIds.get(method);
    const define = mid === undefined && this.#nextMethodId < this.peerSettings.maxMethodIds;
    let head = mid !== undefined ? 4 : 2 + method.path.length + (define ? 4 : 0);
    if (deadline !== undefined) head += 4;
    head += metadataBytes(metadata);
    const size = head + (message?.length ?? 0);
    if (size > this.peerSettings.maxFrameBytes) return tooLarge("request", size, this.peerSettings.maxFrameBytes);
    if (mid !== undefined) flags |= Flag.METHOD_ID;
    else if (define) {
      mid = this.#nextMethodId++;
      this.#methodIds.set(method, mid);
      flags |= Flag.DEFINE_METHOD;
    }
    if (deadline !== undefined) flags |= Flag.TIMEOUT;
    const w = this.writer;
    let p = w.begin(id, FrameType.CALL, flags, head, message);
    const buf = w.buf;
    if ((flags & Flag.METHOD_ID) !== 0) p = buf.writeUInt32BE(mid!, p);
    else {
      p = buf.writeUInt16BE(method.path.length, p);
      p += buf.write(method.path, p, "latin1");
      if ((flags & Flag.DEFINE_METHOD) !== 0) p = buf.writeUInt32BE(mid!, p);
    }
    if (deadline !== undefined) p = buf.writeUInt32BE(Math.min(MAX_TIMEOUT_MS, Math.max(0, Math.ceil(deadline - Date.now()))), p);
    writeMetadataBlock(buf, p, metadata);
    w.end();
    return undefined;
  }

  streamDone(id: number): void {
    if (!this.#calls.delete(id)) return;
    if (this.#calls.size === 0) this.#updateRef();
    while (this.#waiting.length > 0 && this.#calls.size < this.peerSettings.maxConcurrentStreams) this.start(this.#waiting.shift()!);
    if (this.goingAway && this.#calls.size === 0 && this.#waiting.length === 0) this.close("drained after GOAWAY", GoAwayCode.NO_ERROR);
  }

  protected onStreamFrame(id: number, type: number, flags: number, buf: Buffer, start: number, end: number): void {
    if (id >= this.#nextStreamId) throw new ProtocolError(`frame type ${type} for stream ${id}, which was never opened`);
    const call = this.#calls.get(id);
    if (call === undefined) return; // the call ended (e.g. cancelled): late frames are ignored
    switch (type) {
      case FrameType.HEADERS:
        return call.onHeaders(flags, buf, start, end);
      case FrameType.MESSAGE:
        return call.onMessage(buf.subarray(start, end));
      case FrameType.TRAILERS:
        return call.onTrailers(buf, start, end);
      case FrameType.WINDOW_UPDATE:
        return call.onWindowUpdate(readWindowIncrement(buf, start, end));
      case FrameType.CANCEL: {
        const { code, reason } = readCancel(buf, start, end, "call reset by the server");
        return call.finish(new FerryError(code === Code.OK ? Code.UNKNOWN : code, reason));
      }
      default:
        throw new ProtocolError(`frame type ${type} is not valid from a server`);
    }
  }

  protected onGoAway(lastStreamId: number, code: number, reason: string): void {
    this.goingAway = true;
    const refused = unavailable(`server sent GOAWAY (${reason || `code ${code}`}); the call was not processed`);
    for (const [id, call] of [...this.#calls]) if (id > lastStreamId) call.finish(refused);
    for (const call of this.#waiting.splice(0)) call.finish(refused);
    if (this.#calls.size === 0) this.close("drained after GOAWAY", GoAwayCode.NO_ERROR);
  }

  /**
   * The error of calls cut off by the closed connection: UNAVAILABLE whose
   * cause is the socket error (ECONNREFUSED: never sent) or, for any other
   * close, an Error with the reason — a local connection failure either way,
   * not a status from the server (see the channel's isConnectionError).
   */
  #closedError(reason = this.closedReason ?? "closed"): FerryError {
    return new FerryError(Code.UNAVAILABLE, `connection closed: ${reason}`, { cause: this.closedCause ?? new Error(reason) });
  }

  protected onClosed(reason: string): void {
    const error = this.#closedError(reason);
    for (const w of this.#readyWaiters.splice(0)) w(error);
    for (const call of [...this.#calls.values()]) call.finish(error);
    for (const call of this.#waiting.splice(0)) call.finish(error);
  }
}

function unavailable(message: string): FerryError {
  return new FerryError(Code.UNAVAILABLE, message);
}
