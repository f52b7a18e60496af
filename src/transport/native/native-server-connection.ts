import type { Socket } from "node:net";
import { CallContext } from "../../rpc/call-context.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { MethodEntry, Router } from "../../rpc/router.js";
import { peerCertificate, type PeerCertificateInfo } from "../peer-certificate.js";
import { PayloadReader, ProtocolError, readCancel, readMetadataBlock, readWindowIncrement } from "./native-codec.js";
import { NativeConnection, type ConnectionOptions } from "./native-connection.js";
import { NativeServerCall, writeHeadersAndStatus, type ServerCallHost } from "./native-server-call.js";
import { Flag, FrameType, GoAwayCode, MAX_VERSION, MIN_VERSION } from "./native-protocol.js";

/** Longest method path accepted, in bytes. */
const MAX_PATH_BYTES = 1024;

/** An unknown path remembered under a method id: calls to it answer UNIMPLEMENTED. */
type MethodSlot = MethodEntry | { readonly unknownPath: string };

/**
 * The server end of one native connection: accepts CALL frames, resolves
 * their method through a per-connection method-id table (so a path is looked
 * up once per connection, not per call), enforces the stream and size
 * limits, and runs each call as a {@link NativeServerCall}.
 */
export class NativeServerConnection extends NativeConnection implements ServerCallHost {
  readonly #calls = new Map<number, NativeServerCall>();
  readonly #methods: (MethodSlot | undefined)[] = [];
  #lastStreamId = 0;
  #goAwayStreamId = -1;
  #onIdle: (() => void) | undefined;

  constructor(
    socket: Socket,
    options: ConnectionOptions,
    readonly router: Router,
    private readonly onGone: (c: NativeServerConnection) => void,
    /** The client's TLS certificate (mTLS), given to every call as {@link peerCertificate}. */
    private readonly peerCert?: PeerCertificateInfo,
  ) {
    super(socket, options, false);
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

  /** Calls in flight. */
  get activeCalls(): number {
    return this.#calls.size;
  }

  protected checkPeerPreface(min: number, max: number): void {
    if (min > MAX_VERSION || max < MIN_VERSION || min > max) {
      this.sendPreface(0, 0);
      throw new ProtocolError(`unsupported protocol versions ${min}-${max} (this server speaks ${MIN_VERSION}-${MAX_VERSION})`, GoAwayCode.UNSUPPORTED_VERSION);
    }
    this.sendPreface(Math.min(max, MAX_VERSION), 0);
  }

  protected onReady(): void {
    if (this.#goAwayStreamId >= 0) this.sendGoAway(GoAwayCode.NO_ERROR, "server is draining", this.#goAwayStreamId);
  }

  protected onGoAway(): void {
    // A client's GOAWAY: it opens no more streams; nothing to do.
  }

  streamDone(id: number): void {
    this.countBatchedFrame();
    this.#calls.delete(id);
    if (this.#calls.size === 0 && this.#onIdle !== undefined) this.#onIdle();
  }

  /**
   * Graceful drain: GOAWAY(NO_ERROR) with the last stream id accepted; later
   * CALLs are refused with UNAVAILABLE. Resolves when the in-flight calls
   * finished and the connection closed.
   */
  drain(): Promise<void> {
    this.#goAwayStreamId = this.#lastStreamId;
    if (this.ready && this.closedReason === undefined) this.sendGoAway(GoAwayCode.NO_ERROR, "server is draining", this.#lastStreamId);
    return new Promise((resolve) => {
      const idle = () => {
        this.close("drained", GoAwayCode.NO_ERROR, this.#lastStreamId);
        resolve();
      };
      if (this.#calls.size === 0 || this.closedReason !== undefined) return idle();
      this.#onIdle = idle;
    });
  }

  /** Ends every call with UNAVAILABLE (the grace period ran out) and closes. */
  terminate(reason: string): void {
    const error = new FerryError(Code.UNAVAILABLE, reason);
    for (const call of [...this.#calls.values()]) call.terminate(error);
    this.writer.flush();
    this.close(reason, GoAwayCode.NO_ERROR, this.#lastStreamId);
  }

  protected onClosed(reason: string): void {
    const error = new FerryError(Code.CANCELLED, `connection closed: ${reason}`);
    for (const call of [...this.#calls.values()]) call.cancel(error);
    this.#onIdle?.();
    this.onGone(this);
  }

  protected onStreamFrame(id: number, type: number, flags: number, buf: Buffer, start: number, end: number): void {
    if (type === FrameType.CALL) return this.#onCall(id, flags, buf, start, end);
    const call = this.#calls.get(id);
    if (id > this.#lastStreamId) throw new ProtocolError(`frame type ${type} for stream ${id}, which was never opened`);
    if (call === undefined) return; // a stream that already ended: late frames are ignored
    switch (type) {
      case FrameType.MESSAGE:
        return call.onMessage(buf.subarray(start, end), (flags & Flag.END_STREAM) !== 0);
      case FrameType.HALF_CLOSE:
        return call.onHalfClose();
      case FrameType.WINDOW_UPDATE:
        return call.onWindowUpdate(readWindowIncrement(buf, start, end));
      case FrameType.CANCEL: {
        const { code, reason } = readCancel(buf, start, end, "call cancelled by the client");
        return call.cancel(new FerryError(code === Code.DEADLINE_EXCEEDED ? code : Code.CANCELLED, reason));
      }
      default:
        throw new ProtocolError(`frame type ${type} is not valid from a client`);
    }
  }

  #onCall(id: number, flags: number, buf: Buffer, start: number, end: number): void {
    if (id <= this.#lastStreamId || id > 0x7fffffff) throw new ProtocolError(`CALL on stream ${id}: stream ids must increase (last was ${this.#lastStreamId})`);
    this.#lastStreamId = id;
    const r = new PayloadReader(buf, start, end);
    const slot = this.#readMethod(r, flags);
    const timeoutMs = (flags & Flag.TIMEOUT) !== 0 ? r.u32("timeout") : undefined;
    const mdStart = r.pos;
    const metadata = readMetadataBlock(r);
    if (this.#goAwayStreamId >= 0 && id > this.#goAwayStreamId) {
      return this.#refuse(id, new FerryError(Code.UNAVAILABLE, "server is draining; retry on another connection"));
    }
    if (r.pos - mdStart > this.options.settings.maxMetadataBytes) {
      return this.#refuse(id, new FerryError(Code.RESOURCE_EXHAUSTED, `request metadata of ${r.pos - mdStart} bytes exceeds the limit of ${this.options.settings.maxMetadataBytes} bytes`));
    }
    if (this.#calls.size >= this.options.settings.maxConcurrentStreams) {
      return this.#refuse(id, new FerryError(Code.RESOURCE_EXHAUSTED, `too many concurrent calls on this connection (limit ${this.options.settings.maxConcurrentStreams})`));
    }
    if ("unknownPath" in slot) return this.#refuse(id, this.router.unknownPathError(slot.unknownPath));
    const hasMessage = (flags & Flag.MESSAGE) !== 0;
    const max = this.router.options.maxReceiveMessageBytes;
    if (hasMessage && r.remaining > max) {
      return this.#refuse(id, new FerryError(Code.RESOURCE_EXHAUSTED, `request message of ${r.remaining} bytes exceeds the limit of ${max} bytes`));
    }
    const ctx = new CallContext({
      method: slot.info,
      requestMetadata: metadata,
      deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
      peer: this.options.peer,
      transport: "native",
    });
    if (this.peerCert !== undefined) ctx.values.set(peerCertificate, this.peerCert);
    const call = new NativeServerCall(this, id, slot, ctx);
    this.#calls.set(id, call);
    if (hasMessage && (flags & Flag.END_STREAM) !== 0 && !slot.info.requestStream) return call.startUnary(r.rest());
    call.startStreaming();
    if (hasMessage) call.onMessage(r.rest(), (flags & Flag.END_STREAM) !== 0);
    else if ((flags & Flag.END_STREAM) !== 0) call.onHalfClose();
  }

  /** Answers a CALL that is not served with `error` (one HEADERS frame carrying the status). */
  #refuse(id: number, error: FerryError): void {
    writeHeadersAndStatus(this.writer, id, undefined, error, error.metadata);
  }

  /** Reads the CALL's method: a path (optionally defining an id for it) or a previously defined id. */
  #readMethod(r: PayloadReader, flags: number): MethodSlot {
    if ((flags & Flag.METHOD_ID) !== 0) {
      const mid = r.u32("method id");
      const slot = this.#methods[mid];
      if (slot === undefined) throw new ProtocolError(`CALL names method id ${mid}, which was never defined`);
      return slot;
    }
    const pathLen = r.u16("method path length");
    if (pathLen > MAX_PATH_BYTES) throw new ProtocolError(`method path of ${pathLen} bytes is over the limit of ${MAX_PATH_BYTES}`);
    const path = r.latin1(pathLen, "method path");
    const entry = this.router.lookup(path);
    const slot: MethodSlot = entry ?? { unknownPath: path };
    if ((flags & Flag.DEFINE_METHOD) !== 0) {
      const mid = r.u32("method id");
      if (mid >= this.options.settings.maxMethodIds) throw new ProtocolError(`method id ${mid} is over the limit of ${this.options.settings.maxMethodIds}`);
      if (this.#methods[mid] !== undefined) throw new ProtocolError(`method id ${mid} is already defined`);
      this.#methods[mid] = slot;
    }
    return slot;
  }
}
