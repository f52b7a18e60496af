import net, { type Socket } from "node:net";
import tls, { type ConnectionOptions as TlsConnectionOptions } from "node:tls";
import type { AnyRequest, AnyResponse } from "../../rpc/call.js";
import type { ClientTransport } from "../../rpc/client-transport.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES } from "../../rpc/limits.js";
import { getDefaultLogger, type Logger } from "../../util/logger.js";
import { NativeClientCall } from "./native-client-call.js";
import { NativeClientConnection } from "./native-client-connection.js";
import type { FlushMode } from "./native-frame-writer.js";
import { Defaults } from "./native-protocol.js";

/** Options of {@link createNativeTransport}. Give `path` for a Unix socket, else `host` and `port`. */
export interface NativeClientOptions {
  /** Server host for TCP. Default `"127.0.0.1"`. */
  host?: string;
  /** Server port for TCP. Default 50052. */
  port?: number;
  /** Unix domain socket path; when set, `host` and `port` are ignored. */
  path?: string;
  /** Connections to open; each call goes to the least loaded. Default 1 (one connection multiplexes every call). */
  connections?: number;
  /** Largest response message accepted, in bytes; larger ones fail the call with RESOURCE_EXHAUSTED. Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** Per-stream receive window for response streams (flow-control credit), in bytes. Default 1 MiB. */
  initialWindowBytes?: number;
  /** Idle time before a keepalive PING, in ms; 0 disables it. Default 30 000. */
  keepaliveIntervalMs?: number;
  /** Time to wait for any frame after a PING before the connection is declared dead (its calls fail UNAVAILABLE), in ms. Default 10 000. */
  keepaliveTimeoutMs?: number;
  /** Time to connect and complete the handshake (TLS too, with `tls`), in ms; calls waiting for it fail UNAVAILABLE. Default 10 000. */
  connectTimeoutMs?: number;
  /** When queued frames are written: `"immediate"` (default) once per event-loop turn, after this turn's I/O; `"microtask"` at the next microtask checkpoint (fewer µs of latency, more writes). */
  flushMode?: FlushMode;
  /** Where connection problems are logged. Default: Ferry's default logger. */
  logger?: Logger;
  /**
   * TLS options (`node:tls`: ca, cert, key, servername, minVersion, …). When
   * given, connections use `tls.connect`: the server's certificate must chain
   * to `ca` (default: the system CAs) and match `servername` (default: `host`
   * unless it is an IP address, which is then checked against the
   * certificate's IP subjectAltNames). Add `cert` and `key` for mTLS. A failed
   * handshake fails the waiting calls with UNAVAILABLE naming the TLS error;
   * the handshake counts against `connectTimeoutMs`. Empty object: TLS with
   * the system CAs (what `natives://` URLs use).
   */
  tls?: TlsConnectionOptions;
}

/**
 * Creates the client side of Ferry's native protocol (docs/protocol.md) over
 * TCP or a Unix domain socket. Connections open on the first call and are
 * replaced after they close or receive GOAWAY; calls are multiplexed on them.
 *
 * Every failure is a FerryError: a connection that cannot be made, is lost
 * or stops answering keepalive PINGs fails its calls with UNAVAILABLE (as
 * does a call the server refused while draining, which it never processed);
 * a cancelled or expired call sends CANCEL and rejects with CANCELLED or
 * DEADLINE_EXCEEDED.
 */
export function createNativeTransport(options: NativeClientOptions = {}): ClientTransport {
  return new NativeClientTransport(options);
}

class NativeClientTransport implements ClientTransport {
  readonly transportName = "native";
  readonly #pool: (NativeClientConnection | undefined)[];
  readonly #maxReceive: number;
  #closed = false;

  constructor(private readonly options: NativeClientOptions) {
    const n = options.connections ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new FerryError(Code.INVALID_ARGUMENT, `connections must be an integer from 1 to 64, got ${n}`);
    this.#pool = new Array<NativeClientConnection | undefined>(n).fill(undefined);
    this.#maxReceive = options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES;
  }

  call(request: AnyRequest): Promise<AnyResponse> {
    if (this.#closed) return Promise.reject(new FerryError(Code.UNAVAILABLE, "transport is closed"));
    const call = new NativeClientCall(request);
    if (call.finished) return call.promise;
    const conn = this.#pick();
    if (conn.ready) conn.start(call);
    else conn.whenReady().then(() => conn.start(call), (err: FerryError) => call.finish(err));
    return call.promise;
  }

  /** The least loaded usable connection, opening one where a slot is free or unusable. */
  #pick(): NativeClientConnection {
    const pool = this.#pool;
    let best: NativeClientConnection | undefined;
    for (let i = 0; i < pool.length; i++) {
      let c = pool[i];
      if (c === undefined || !c.usable) pool[i] = c = this.#connect();
      if (best === undefined || c.load < best.load) best = c;
    }
    return best!;
  }

  #connect(): NativeClientConnection {
    const o = this.options;
    const socket = o.tls !== undefined ? connectTls(o, o.tls) : o.path !== undefined ? net.connect(o.path) : net.connect({ host: o.host ?? "127.0.0.1", port: o.port ?? 50052 });
    const peer = o.path !== undefined ? `unix:${o.path}` : `${o.host ?? "127.0.0.1"}:${o.port ?? 50052}`;
    return new NativeClientConnection(
      socket,
      {
        settings: {
          maxFrameBytes: Math.max(Defaults.maxFrameBytes, this.#maxReceive + 64 * 1024),
          initialWindowBytes: o.initialWindowBytes ?? Defaults.initialWindowBytes,
          maxConcurrentStreams: 0,
          maxMetadataBytes: Defaults.maxMetadataBytes,
          maxMethodIds: 0,
        },
        keepaliveIntervalMs: o.keepaliveIntervalMs ?? Defaults.keepaliveIntervalMs,
        keepaliveTimeoutMs: o.keepaliveTimeoutMs ?? Defaults.keepaliveTimeoutMs,
        handshakeTimeoutMs: o.connectTimeoutMs ?? Defaults.handshakeTimeoutMs,
        flushMode: o.flushMode ?? "immediate",
        logger: o.logger ?? getDefaultLogger(),
        peer,
      },
      this.#maxReceive,
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    const conns = this.#pool.filter((c): c is NativeClientConnection => c !== undefined);
    this.#pool.fill(undefined);
    await Promise.all(
      conns.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.socket.destroyed) return resolve();
            c.socket.ref(); // an idle connection is unref'd: keep the process alive until it has closed
            c.socket.once("close", () => resolve());
            c.shutdown("client transport closed");
          }),
      ),
    );
  }
}

/** Opens a TLS connection to the server of `o` (TCP or Unix socket). */
function connectTls(o: NativeClientOptions, options: TlsConnectionOptions): Socket {
  if (o.path !== undefined) return tls.connect({ ...options, path: o.path });
  const host = o.host ?? "127.0.0.1";
  return tls.connect({ servername: net.isIP(host) ? undefined : host, ...options, host, port: o.port ?? 50052 });
}
