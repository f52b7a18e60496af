import type { Router } from "./router.js";

/** The address a server transport listens on, for logs and clients. */
export interface ListeningAddress {
  /**
   * A target a client can pass to `createClient` (e.g. `grpc://127.0.0.1:50051`):
   * the advertised address, which registrations carry. It differs from
   * {@link listenUrl} when the server binds every interface or advertises
   * another host or port (`advertiseHost`, `advertisePort`).
   */
  readonly url: string;
  /** The bound address (`grpc://0.0.0.0:50051`), when the transport knows it. Default: the same as {@link url}. */
  readonly listenUrl?: string;
  /** The transport's name (`"grpc"`, `"native"`, `"inproc"`). */
  readonly transport: string;
}

/**
 * The server side of a transport: accepts calls and hands each one to the
 * server's {@link Router}. A server can run several at once (for example gRPC
 * on one port and Ferry's native protocol on another).
 */
export interface ServerTransport {
  /** Starts accepting calls. Rejects with the listen error (e.g. EADDRINUSE). */
  start(router: Router): Promise<ListeningAddress>;
  /**
   * Stops accepting new calls (new ones get UNAVAILABLE, or the protocol's
   * GOAWAY), lets in-flight calls finish for up to `graceMs` milliseconds,
   * then cancels what is left and closes every connection.
   */
  shutdown(graceMs: number): Promise<void>;
}
