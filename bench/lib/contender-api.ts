/**
 * What every benchmark contender provides: a `server.ts` exporting
 * {@link StartServer} as `startServer` and a `client.ts` exporting
 * {@link ConnectClient} as `connectClient`, both in
 * `bench/contenders/<name>/`. The load loops (bench/lib/load.ts) only see
 * these two interfaces, so every contender is measured by the same code.
 */

/** A running benchmark server. */
export interface BenchServer {
  /** Where a client connects, in the contender's own form (for example `127.0.0.1:5001` or a URL). */
  readonly address: string;
  /**
   * For contenders that run client and server in one process (inproc): the
   * server object the client attaches to. Undefined otherwise.
   */
  readonly local?: unknown;
  /** Stops serving and closes connections. */
  close(): Promise<void>;
}

/** Options passed to every {@link StartServer}. */
export interface StartServerOptions {
  /** Host to bind TCP listeners to: always `127.0.0.1`. */
  readonly host: string;
  /** A private temporary directory for Unix domain sockets; removed by the runner. */
  readonly socketDir: string;
}

/** Starts a contender's echo server. Rejects with {@link NotAvailableError} when the contender cannot run yet. */
export type StartServer = (options: StartServerOptions) => Promise<BenchServer>;

/** A connected benchmark client. */
export interface BenchClient {
  /**
   * One unary echo call carrying `payload` (EchoService.Echo, or the raw
   * references' equivalent). Resolves with the byte length of the echoed
   * payload, which the load loop checks.
   */
  unary(payload: Uint8Array): Promise<number>;
  /**
   * One server-streaming call (EchoService.ServerStream): asks for `count`
   * messages each carrying `payload`. Resolves with the number of messages
   * received, which the load loop checks.
   */
  serverStream(count: number, payload: Uint8Array): Promise<number>;
  /** Closes the client's connections. */
  close(): Promise<void>;
}

/** Options passed to every {@link ConnectClient}. */
export interface ConnectClientOptions {
  /** The server's {@link BenchServer.address}. */
  readonly address: string;
  /** The server's {@link BenchServer.local}, for same-process contenders. */
  readonly local?: unknown;
}

/** Connects a contender's client to its server. */
export type ConnectClient = (options: ConnectClientOptions) => Promise<BenchClient>;

/** A contender that cannot run yet (its transport is not written); the runner reports it as skipped with `message`. */
export class NotAvailableError extends Error {
  override readonly name = "NotAvailableError";
}
