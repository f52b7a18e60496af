import { lstat, unlink } from "node:fs/promises";
import net, { type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import type { Router } from "../../rpc/router.js";
import type { ListeningAddress, ServerTransport } from "../../rpc/server-transport.js";
import type { ConnectionOptions } from "./native-connection.js";
import type { FlushMode } from "./native-frame-writer.js";
import { Defaults } from "./native-protocol.js";
import { NativeServerConnection } from "./native-server-connection.js";

/** Options of {@link createNativeServerTransport}. Give `path` for a Unix socket, else `host`/`port` for TCP. */
export interface NativeServerOptions {
  /** Interface to bind. Default `"127.0.0.1"`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 50052. */
  port?: number;
  /** A Unix domain socket path; when set, `host` and `port` are ignored. A stale socket file left by a dead server is removed. */
  path?: string;
  /** Concurrent calls per connection; more are refused with RESOURCE_EXHAUSTED. Default 1000. */
  maxConcurrentStreams?: number;
  /** Per-stream receive window (flow-control credit), in bytes. Default 256 KiB. */
  initialWindowBytes?: number;
  /** Largest request metadata block, in bytes; larger calls fail with RESOURCE_EXHAUSTED. Default 16 KiB. */
  maxMetadataBytes?: number;
  /** Largest frame accepted; a larger one closes the connection. Default: the server's `maxReceiveMessageBytes` + 64 KiB. */
  maxFrameBytes?: number;
  /** Idle time before a keepalive PING, in ms; 0 disables it. Default 30 000. */
  keepaliveIntervalMs?: number;
  /** Time to wait for any frame after a PING before closing the connection, in ms. Default 10 000. */
  keepaliveTimeoutMs?: number;
  /** Time a new connection has to send its preface and SETTINGS, in ms. Default 10 000. */
  handshakeTimeoutMs?: number;
  /** When queued frames are written: `"immediate"` (default) once per event-loop turn, after this turn's I/O; `"microtask"` at the next microtask checkpoint (fewer µs of latency, more writes). */
  flushMode?: FlushMode;
}

/** Default port of `native://` URLs without one. */
export const DEFAULT_NATIVE_PORT = 50052;

/**
 * Creates the server side of Ferry's native protocol (docs/protocol.md) over
 * TCP or a Unix domain socket. All four method kinds, metadata, deadlines,
 * cancellation, per-stream flow control, keepalive and graceful drain, with
 * the same semantics as the `grpc` transport. A peer that sends malformed
 * input has its connection closed with a GOAWAY and a logged reason; other
 * connections are unaffected.
 */
export function createNativeServerTransport(options: NativeServerOptions = {}): ServerTransport {
  return new NativeServerTransport(options);
}

class NativeServerTransport implements ServerTransport {
  #server: NetServer | undefined;
  readonly #connections = new Set<NativeServerConnection>();
  #draining = false;

  constructor(private readonly options: NativeServerOptions) {}

  async start(router: Router): Promise<ListeningAddress> {
    const o = this.options;
    const base: Omit<ConnectionOptions, "peer"> = {
      settings: {
        maxFrameBytes: o.maxFrameBytes ?? Math.max(Defaults.maxFrameBytes, router.options.maxReceiveMessageBytes + 64 * 1024),
        initialWindowBytes: o.initialWindowBytes ?? Defaults.initialWindowBytes,
        maxConcurrentStreams: o.maxConcurrentStreams ?? Defaults.maxConcurrentStreams,
        maxMetadataBytes: o.maxMetadataBytes ?? Defaults.maxMetadataBytes,
        maxMethodIds: Defaults.maxMethodIds,
      },
      keepaliveIntervalMs: o.keepaliveIntervalMs ?? Defaults.keepaliveIntervalMs,
      keepaliveTimeoutMs: o.keepaliveTimeoutMs ?? Defaults.keepaliveTimeoutMs,
      handshakeTimeoutMs: o.handshakeTimeoutMs ?? Defaults.handshakeTimeoutMs,
      flushMode: o.flushMode ?? "immediate",
      logger: router.logger,
    };
    const server = net.createServer((socket) => this.#accept(socket, router, base));
    this.#server = server;
    await (o.path !== undefined ? listenUnix(server, o.path) : listenTcp(server, o.host ?? "127.0.0.1", o.port ?? DEFAULT_NATIVE_PORT));
    server.on("error", (err) => router.logger.error({ err }, "native server error"));
    if (o.path !== undefined) return { url: `native+unix://${o.path.split("/").map(encodeURIComponent).join("/")}`, transport: "native" };
    const host = o.host ?? "127.0.0.1";
    const h = host.includes(":") ? `[${host}]` : host;
    return { url: `native://${h}:${(server.address() as AddressInfo).port}`, transport: "native" };
  }

  #accept(socket: Socket, router: Router, base: Omit<ConnectionOptions, "peer">): void {
    if (this.#draining) {
      socket.destroy();
      return;
    }
    const peer = this.options.path !== undefined ? `unix:${this.options.path}` : `${socket.remoteAddress}:${socket.remotePort}`;
    const conn = new NativeServerConnection(socket, { ...base, peer }, router, (c) => this.#connections.delete(c));
    this.#connections.add(conn);
  }

  async shutdown(graceMs: number): Promise<void> {
    const server = this.#server;
    if (server === undefined || this.#draining) return;
    this.#draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const drained = Promise.all([...this.#connections].map((c) => c.drain()));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const c of this.#connections) c.terminate(`server shut down after a ${graceMs} ms grace period`);
        resolve();
      }, graceMs);
    });
    await Promise.race([drained, expired]);
    clearTimeout(timer);
    await closed;
  }
}

function listenTcp(server: NetServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Listens on `path`; on EADDRINUSE removes the file if no server answers on it (a stale socket) and retries once. */
async function listenUnix(server: NetServer, path: string): Promise<void> {
  const attempt = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  try {
    await attempt();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || !(await isSocketFile(path)) || (await socketAnswers(path))) throw err;
    await unlink(path);
    await attempt();
  }
}

async function isSocketFile(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket();
  } catch {
    return false;
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
