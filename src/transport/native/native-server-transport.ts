import { lstat, unlink } from "node:fs/promises";
import net, { type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import tls, { type SecureContextOptions, type TlsOptions } from "node:tls";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Router } from "../../rpc/router.js";
import type { ListeningAddress, ServerTransport } from "../../rpc/server-transport.js";
import { readPeerCertificate } from "../peer-certificate.js";
import type { ConnectionOptions } from "./native-connection.js";
import type { FlushMode } from "./native-frame-writer.js";
import { Defaults } from "./native-protocol.js";
import { NativeServerConnection } from "./native-server-connection.js";
import { checkAdvertise, listeningAddress, type AdvertiseOptions } from "../advertised-url.js";

/** Options of {@link createNativeServerTransport}. Give `path` for a Unix socket, else `host`/`port` for TCP. */
export interface NativeServerOptions extends AdvertiseOptions {
  /** Interface to bind (`"0.0.0.0"` or `"::"` for every one; then set `advertiseHost`). Default `"127.0.0.1"`, reachable from this machine only. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 50052. */
  port?: number;
  /** A Unix domain socket path; when set, `host` and `port` are ignored. A stale socket file left by a dead server is removed. */
  path?: string;
  /** Concurrent calls per connection; more are refused with RESOURCE_EXHAUSTED. Default 1000. */
  maxConcurrentStreams?: number;
  /** Per-stream receive window (flow-control credit), in bytes. Default 1 MiB. */
  initialWindowBytes?: number;
  /** Largest request metadata block, in bytes; larger calls fail with RESOURCE_EXHAUSTED. Default 16 KiB. */
  maxMetadataBytes?: number;
  /** Largest frame accepted; a larger one closes the connection. Default: the server's `maxReceiveMessageBytes` + 64 KiB. */
  maxFrameBytes?: number;
  /** Idle time before a keepalive PING, in ms; 0 disables it. Default 30 000. */
  keepaliveIntervalMs?: number;
  /** Time to wait for any frame after a PING before closing the connection, in ms. Default 10 000. */
  keepaliveTimeoutMs?: number;
  /** Time a new connection has to complete the TLS handshake (with `tls`) and send its preface and SETTINGS, in ms. Default 10 000. */
  handshakeTimeoutMs?: number;
  /** When queued frames are written: `"immediate"` (default) once per event-loop turn, after this turn's I/O; `"microtask"` at the next microtask checkpoint (fewer µs of latency, more writes). */
  flushMode?: FlushMode;
  /**
   * TLS options (`node:tls`: key, cert, ca, requestCert, rejectUnauthorized,
   * minVersion, …). When given, the server listens with `tls.createServer`
   * and reports a `natives://` URL; otherwise cleartext. For mTLS add `ca`
   * (the CAs that sign client certificates), `requestCert: true` and
   * `rejectUnauthorized: true`: clients without a valid certificate then fail
   * the TLS handshake, and handlers see the client's certificate as
   * `ctx.values.get(peerCertificate)`. The TLS handshake must finish within
   * `handshakeTimeoutMs`. Replace certificates while running with
   * {@link NativeServerTransport.setSecureContext}.
   */
  tls?: TlsOptions;
}

/** The server transport {@link createNativeServerTransport} returns. */
export interface NativeServerTransport extends ServerTransport {
  /**
   * Replaces the TLS key, certificate or CAs without a restart (for example
   * after a certificate was renewed): new connections use `options`,
   * established ones keep theirs (`tls.Server.setSecureContext`). Raises
   * FAILED_PRECONDITION when the server is not started or was not started
   * with `tls`.
   */
  setSecureContext(options: SecureContextOptions): void;
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
export function createNativeServerTransport(options: NativeServerOptions = {}): NativeServerTransport {
  return new NativeServer(options);
}

class NativeServer implements NativeServerTransport {
  #server: NetServer | tls.Server | undefined;
  readonly #connections = new Set<NativeServerConnection>();
  #draining = false;

  constructor(private readonly options: NativeServerOptions) {
    checkAdvertise(options);
  }

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
    const server = o.tls ? createTlsServer(o.tls, base, (socket) => this.#accept(socket, router, base)) : net.createServer((socket) => this.#accept(socket, router, base));
    this.#server = server;
    await (o.path !== undefined ? listenUnix(server, o.path) : listenTcp(server, o.host ?? "127.0.0.1", o.port ?? DEFAULT_NATIVE_PORT));
    server.on("error", (err) => router.logger.error({ err }, "native server error"));
    if (o.path !== undefined) return { url: `native+unix://${o.path.split("/").map(encodeURIComponent).join("/")}`, transport: "native" };
    return listeningAddress(o.tls ? "natives" : "native", "native", o.host ?? "127.0.0.1", (server.address() as AddressInfo).port, o);
  }

  #accept(socket: Socket, router: Router, base: Omit<ConnectionOptions, "peer">): void {
    if (this.#draining) {
      socket.destroy();
      return;
    }
    const peer = this.options.path !== undefined ? `unix:${this.options.path}` : `${socket.remoteAddress}:${socket.remotePort}`;
    const cert = this.options.tls ? readPeerCertificate(socket) : undefined;
    const conn = new NativeServerConnection(socket, { ...base, peer }, router, (c) => this.#connections.delete(c), cert);
    this.#connections.add(conn);
  }

  setSecureContext(options: SecureContextOptions): void {
    const server = this.#server;
    if (server === undefined || !this.options.tls) throw new FerryError(Code.FAILED_PRECONDITION, "setSecureContext needs a started native server with tls options");
    (server as tls.Server).setSecureContext(options);
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

/**
 * A TLS server whose handshake must finish within the connection's
 * handshake timeout; failed handshakes (untrusted or missing client
 * certificate, timeout, a cleartext peer) are logged at debug level and
 * the socket is closed (after OpenSSL sent its alert, if any).
 */
function createTlsServer(options: TlsOptions, base: Omit<ConnectionOptions, "peer">, onSecure: (socket: Socket) => void): tls.Server {
  const server = tls.createServer({ handshakeTimeout: base.handshakeTimeoutMs, ...options }, onSecure);
  server.on("tlsClientError", (err, socket) => {
    base.logger.debug({ err: err.message, peer: `${socket.remoteAddress}:${socket.remotePort}` }, "native transport: TLS handshake failed");
    socket.destroy(); // with a listener, node:tls leaves a timed-out socket open
  });
  return server;
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
