import type { Socket } from "node:net";
import type { Logger } from "../../util/logger.js";
import { PayloadReader, ProtocolError } from "./native-codec.js";
import { FrameReader } from "./native-frame-reader.js";
import { FrameWriter, type FlushMode } from "./native-frame-writer.js";
import {
  Flag,
  FrameType,
  GoAwayCode,
  PREFACE_BYTES,
  PREFACE_MAGIC,
  Setting,
  defaultSettings,
  type PeerSettings,
} from "./native-protocol.js";

/** Options shared by both ends of a native connection. */
export interface ConnectionOptions {
  /** This side's limits, advertised in SETTINGS. */
  settings: PeerSettings;
  /** Idle time before a keepalive PING, in ms; 0 disables keepalive. */
  keepaliveIntervalMs: number;
  /** Time to wait for any frame after a PING before closing the connection, in ms. */
  keepaliveTimeoutMs: number;
  /** Time allowed for the preface and SETTINGS exchange, in ms. */
  handshakeTimeoutMs: number;
  flushMode: FlushMode;
  logger: Logger;
  /** For logs: `"127.0.0.1:5000"` or `"unix:/path"`. */
  peer: string;
}

const PING_PAYLOAD_BYTES = 8;

/**
 * Calls started (client) or answered (server) after which the queued frames
 * are written at once instead of at the end of the event-loop turn. See
 * {@link NativeConnection.countBatchedFrame}.
 */
export const FLUSH_BATCH_FRAMES = 16;

/**
 * What both ends of a native connection share (docs/protocol.md): the
 * preface and SETTINGS exchange, framing, PING keepalive and dead-peer
 * detection, GOAWAY, and closing the connection with a logged reason when
 * the peer sends something malformed — without affecting other connections.
 */
export abstract class NativeConnection {
  readonly writer: FrameWriter;
  /** The peer's limits; protocol defaults until its SETTINGS arrive. */
  peerSettings: PeerSettings = defaultSettings();
  /** True once the peer's preface and SETTINGS were received. */
  ready = false;
  /** Set once the connection is closed; the reason, for calls that were cut off. */
  closedReason: string | undefined;
  /**
   * The socket error that closed the connection, if one did (e.g. ECONNREFUSED,
   * ECONNRESET). Kept as the cause of the calls' UNAVAILABLE errors, so that a
   * channel can tell a connection failure (and a request never sent) from a
   * server's status.
   */
  closedCause: Error | undefined;
  #reader: FrameReader;
  #preface: Buffer | undefined = Buffer.alloc(0);
  #gotSettings = false;
  #lastReceiveMs = Date.now();
  #pingSentMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #prefaceSent = false;
  #batched = 0;

  constructor(
    readonly socket: Socket,
    readonly options: ConnectionOptions,
    holdWrites: boolean,
  ) {
    this.writer = new FrameWriter(socket, options.flushMode, holdWrites);
    this.#reader = new FrameReader(options.settings.maxFrameBytes, (id, type, flags, buf, start, end) => this.#onFrame(id, type, flags, buf, start, end));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (err) => {
      this.closedCause ??= err;
      // A TLS socket that never became ready failed its handshake (untrusted certificate, rejected client certificate, …).
      this.close(this.#tlsPending() ? `TLS handshake failed: ${tlsReason(err)}` : `socket error: ${err.message}`);
    });
    socket.on("close", () => this.#onSocketClose());
    this.#startTimer();
  }

  /** Handles a CALL, MESSAGE, HALF_CLOSE, HEADERS, TRAILERS, CANCEL or WINDOW_UPDATE frame. */
  protected abstract onStreamFrame(streamId: number, type: number, flags: number, buf: Buffer, start: number, end: number): void;
  /** Called once the handshake completed. */
  protected abstract onReady(): void;
  /** Called for a received GOAWAY. */
  protected abstract onGoAway(lastStreamId: number, code: number, reason: string): void;
  /** Called once when the connection is gone; every open stream must end. */
  protected abstract onClosed(reason: string): void;
  /** The preface this side sends; the client sends its version range, the server its choice. */
  protected abstract checkPeerPreface(minVersion: number, maxVersion: number): void;

  /** Writes this side's preface bytes and SETTINGS frame. */
  protected sendPreface(versionA: number, versionB: number): void {
    const preface = Buffer.allocUnsafe(PREFACE_BYTES);
    PREFACE_MAGIC.copy(preface, 0);
    preface[8] = versionA;
    preface[9] = versionB;
    const s = this.options.settings;
    const entries: [number, number][] = [
      [Setting.MAX_FRAME_BYTES, s.maxFrameBytes],
      [Setting.INITIAL_WINDOW_BYTES, s.initialWindowBytes],
      [Setting.MAX_CONCURRENT_STREAMS, s.maxConcurrentStreams],
      [Setting.MAX_METADATA_BYTES, s.maxMetadataBytes],
      [Setting.MAX_METHOD_IDS, s.maxMethodIds],
    ];
    const payload = Buffer.allocUnsafe(entries.length * 6);
    entries.forEach(([id, v], i) => {
      payload.writeUInt16BE(id, i * 6);
      payload.writeUInt32BE(v, i * 6 + 2);
    });
    const header = Buffer.allocUnsafe(10);
    header.writeUInt32BE(payload.length, 0);
    header.writeUInt32BE(0, 4);
    header[8] = FrameType.SETTINGS;
    header[9] = 0;
    this.socket.write(Buffer.concat([preface, header, payload]));
    this.#prefaceSent = true;
  }

  /**
   * Counts one call's frame (a CALL written by the client, a call's answer by
   * the server) and writes what is queued every {@link FLUSH_BATCH_FRAMES}.
   *
   * Why: with many calls in flight on one connection, a whole batch arrives
   * in one read and, with writes coalesced per event-loop turn only, every
   * answer to it left in one write after the last one was computed. Each side
   * then waited for the other's whole batch: the two processes took turns
   * instead of working at once (64 calls in flight ran at 1 / (server µs +
   * client µs) per call, neither process busy). Writing every 16 frames lets
   * the peer start on the first answers while this side computes the rest;
   * a batch of 16 small frames still costs one write.
   */
  protected countBatchedFrame(): void {
    if (++this.#batched >= FLUSH_BATCH_FRAMES) {
      this.#batched = 0;
      this.writer.flush();
    }
  }

  /**
   * Sends GOAWAY: the peer must open no stream above `lastStreamId`.
   * Code NO_ERROR is a graceful drain.
   */
  sendGoAway(code: number, reason: string, lastStreamId: number): void {
    const text = Buffer.from(reason.slice(0, 512), "utf8");
    const pos = this.writer.begin(0, FrameType.GOAWAY, 0, 5 + text.length);
    const buf = this.writer.buf;
    buf.writeUInt32BE(lastStreamId, pos);
    buf[pos + 4] = code;
    text.copy(buf, pos + 5);
    this.writer.end();
  }

  /**
   * Closes the connection. With `goAwayCode`, a GOAWAY with `reason` is
   * written first and the reason is logged as a warning (a peer misbehaved).
   */
  close(reason: string, goAwayCode?: number, lastStreamId = 0): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (goAwayCode !== undefined) {
      if (goAwayCode !== GoAwayCode.NO_ERROR) this.options.logger.warn({ peer: this.options.peer, reason }, "native transport: closing connection");
      if (this.#prefaceSent) {
        this.sendGoAway(goAwayCode, reason, lastStreamId);
        this.writer.flush();
      }
    }
    this.writer.close();
    this.#stopTimer();
    // A dead peer reads nothing; a TLS handshake that did not finish has nothing to deliver.
    if (goAwayCode === GoAwayCode.KEEPALIVE_TIMEOUT || this.#tlsPending()) this.socket.destroy();
    else this.socket.end();
    // Give the GOAWAY a moment to leave, then make sure the socket is gone.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.onClosed(reason);
  }

  #onSocketClose(): void {
    this.#stopTimer();
    if (this.closedReason === undefined) {
      this.closedReason = this.#tlsPending()
        ? "TLS handshake failed: connection closed by the peer (a server rejects an untrusted or missing client certificate this way)"
        : "connection closed by the peer";
      this.writer.close();
      this.onClosed(this.closedReason);
    }
  }

  /** True on a TLS socket whose peer has not completed the handshake: cold paths only (errors, close). */
  #tlsPending(): boolean {
    return !this.ready && "encrypted" in this.socket;
  }

  #onData(chunk: Buffer): void {
    if (this.closedReason !== undefined) return;
    this.#lastReceiveMs = Date.now();
    this.#pingSentMs = 0;
    try {
      let offset = 0;
      if (this.#preface !== undefined) {
        offset = this.#readPreface(chunk);
        if (offset < 0) return;
      }
      this.#reader.push(chunk, offset);
    } catch (err) {
      if (err instanceof ProtocolError) this.close(err.message, err.goAwayCode);
      else {
        this.options.logger.error({ err, peer: this.options.peer }, "native transport: internal error handling a frame");
        this.close(`internal error: ${(err as Error)?.message}`, GoAwayCode.INTERNAL_ERROR);
      }
    }
  }

  /** Consumes preface bytes; returns the offset after the preface, or -1 when more are needed. */
  #readPreface(chunk: Buffer): number {
    const have = this.#preface!;
    const need = PREFACE_BYTES - have.length;
    const part = chunk.subarray(0, need);
    const got = have.length === 0 && part.length === PREFACE_BYTES ? part : Buffer.concat([have, part]);
    const magicLen = Math.min(got.length, PREFACE_MAGIC.length);
    if (!got.subarray(0, magicLen).equals(PREFACE_MAGIC.subarray(0, magicLen))) {
      throw new ProtocolError("invalid connection preface: not a Ferry native peer");
    }
    if (got.length < PREFACE_BYTES) {
      this.#preface = Buffer.from(got);
      return -1;
    }
    this.#preface = undefined;
    this.checkPeerPreface(got[8], got[9]);
    return part.length;
  }

  #onFrame(streamId: number, type: number, flags: number, buf: Buffer, start: number, end: number): void {
    if (!this.#gotSettings) {
      if (type !== FrameType.SETTINGS || streamId !== 0) throw new ProtocolError(`first frame must be SETTINGS on stream 0, got type ${type}`);
      this.#readSettings(new PayloadReader(buf, start, end));
      this.#gotSettings = true;
      this.ready = true;
      this.onReady();
      return;
    }
    switch (type) {
      case FrameType.PING:
        return this.#onPing(streamId, flags, buf, start, end);
      case FrameType.GOAWAY: {
        const r = new PayloadReader(buf, start, end);
        const last = r.u32("GOAWAY last stream id");
        const code = r.u8("GOAWAY code");
        return this.onGoAway(last, code, r.utf8(r.remaining, "GOAWAY reason"));
      }
      case FrameType.SETTINGS:
        throw new ProtocolError("SETTINGS may be sent only once");
      default:
        if (type > FrameType.GOAWAY) return; // unknown frame types are ignored (docs/protocol.md)
        if (streamId === 0) throw new ProtocolError(`frame type ${type} needs a stream id`);
        this.onStreamFrame(streamId, type, flags, buf, start, end);
    }
  }

  #readSettings(r: PayloadReader): void {
    if (r.remaining % 6 !== 0) throw new ProtocolError("SETTINGS payload is not a list of 6-byte entries");
    const s = this.peerSettings;
    while (r.remaining > 0) {
      const id = r.u16("setting id");
      const v = r.u32("setting value");
      if (id === Setting.MAX_FRAME_BYTES) s.maxFrameBytes = Math.max(v, 16 * 1024);
      else if (id === Setting.INITIAL_WINDOW_BYTES) s.initialWindowBytes = Math.max(v, 1);
      else if (id === Setting.MAX_CONCURRENT_STREAMS) s.maxConcurrentStreams = v;
      else if (id === Setting.MAX_METADATA_BYTES) s.maxMetadataBytes = v;
      else if (id === Setting.MAX_METHOD_IDS) s.maxMethodIds = v;
    }
  }

  #onPing(streamId: number, flags: number, buf: Buffer, start: number, end: number): void {
    if (streamId !== 0 || end - start !== PING_PAYLOAD_BYTES) throw new ProtocolError("PING must be on stream 0 with an 8-byte payload");
    if ((flags & Flag.ACK) !== 0) return;
    this.writer.frame(0, FrameType.PING, Flag.ACK, buf.subarray(start, end));
  }

  #startTimer(): void {
    const { keepaliveIntervalMs, keepaliveTimeoutMs, handshakeTimeoutMs } = this.options;
    const tick = Math.max(50, Math.min(keepaliveIntervalMs || handshakeTimeoutMs, keepaliveTimeoutMs, handshakeTimeoutMs) / 2);
    const openedMs = Date.now();
    this.#timer = setInterval(() => {
      const now = Date.now();
      if (!this.ready) {
        if (now - openedMs > handshakeTimeoutMs) this.close(`no preface and SETTINGS within ${handshakeTimeoutMs} ms`, GoAwayCode.PROTOCOL_ERROR);
        return;
      }
      if (keepaliveIntervalMs <= 0) return;
      if (this.#pingSentMs !== 0) {
        if (now - this.#pingSentMs > keepaliveTimeoutMs) this.close(`peer did not answer a keepalive PING within ${keepaliveTimeoutMs} ms`, GoAwayCode.KEEPALIVE_TIMEOUT);
      } else if (now - this.#lastReceiveMs > keepaliveIntervalMs) {
        this.#pingSentMs = now;
        this.writer.frame(0, FrameType.PING, 0, Buffer.alloc(PING_PAYLOAD_BYTES));
      }
    }, tick);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}


/**
 * The readable part of a TLS error: OpenSSL's reason ("tlsv13 alert
 * certificate required") instead of its full error string with codes and
 * source file names; other messages unchanged.
 */
function tlsReason(err: Error): string {
  const m = /SSL routines:[^:]*:([^:]+)/.exec(err.message);
  return m === null ? err.message : m[1].trim();
}
