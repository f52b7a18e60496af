import type { DescService } from "@bufbuild/protobuf";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { checkServiceImpl } from "./check-service-impl.js";
import { Code } from "./code.js";
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES } from "./limits.js";
import { FerryError } from "./ferry-error.js";
import type { Interceptor } from "./interceptor.js";
import { Router } from "./router.js";
import type { ListeningAddress, ServerTransport } from "./server-transport.js";
import type { ServiceImpl } from "./service-impl.js";
import { serverTransportFromUrl } from "./transport-registry.js";
import { addHealthService, type HealthStatus } from "./health-service.js";
import { createFailedCallLogger, createServerTelemetryInterceptor } from "../observability/server-telemetry.js";

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** Server interceptors, the first outermost (see {@link Interceptor}). Default none. */
  interceptors?: Interceptor[];
  /** Where handler failures and transport events are logged. Default: pino at `FERRY_LOG_LEVEL` (info). */
  logger?: Logger;
  /**
   * Largest request message accepted, in bytes, after decompression. Larger
   * messages fail the call with RESOURCE_EXHAUSTED. Default 4 MiB, as gRPC.
   */
  maxReceiveMessageBytes?: number;
  /**
   * Serve the standard health service, `grpc.health.v1.Health` (gRPC
   * doc/health-checking.md), on every transport: every service SERVING until
   * the server starts draining, then NOT_SERVING. `server.health` sets
   * statuses. Default true.
   */
  health?: boolean;
  /**
   * Run every handler (and the interceptors around it) inside an
   * `AsyncLocalStorage` holding its {@link CallContext}, so that calls made
   * from the handler inherit its deadline and cancellation without the
   * `parent` call option, and {@link currentCallContext} finds it. Default
   * true.
   *
   * With `false`, deadline propagation needs `parent: ctx` on each call made
   * inside a handler (as in @grpc/grpc-js), and `currentCallContext()`
   * returns `undefined`. The saving is Node's: on Node 20 and 22 an active
   * AsyncLocalStorage turns on promise hooks for every promise in the process,
   * about 40% of an in-process call's CPU time (measured in
   * docs/benchmarks.md, "ferry-inproc-explicit"); Node 24's AsyncContextFrame
   * makes the store cheap.
   */
  implicitCallContext?: boolean;
  /**
   * Built-in OpenTelemetry instrumentation through `@opentelemetry/api`: a
   * SERVER span per call on every transport, child of the W3C trace context
   * in the request metadata, the `rpc.server.duration` histogram, and one
   * `warn` log line per failed call — outside every interceptor in
   * `interceptors` (see docs/observability.md). With no SDK registered it
   * costs no allocation or promise per call. Default true.
   */
  telemetry?: boolean;
}


/**
 * A Ferry server: hosts service implementations and serves them on one or
 * more transports at once (`grpc`, `native`, `inproc`).
 */
export class Server {
  /** The method table every transport dispatches through. */
  readonly router: Router;
  readonly #transports: ServerTransport[] = [];
  readonly #addresses: ListeningAddress[] = [];
  #state: "serving" | "draining" | "stopped" = "serving";
  readonly #stateListeners = new Set<(state: "serving" | "draining" | "stopped") => void>();

  /** The health service's statuses; `undefined` when created with `health: false`. */
  readonly health: HealthStatus | undefined;

  constructor(options: ServerOptions = {}) {
    const logger = options.logger ?? getDefaultLogger();
    // Observability: the built-in telemetry interceptor goes outermost (src/observability).
    // The failed-call log line goes through the Router, which sees every failure (nothing to pay per successful call).
    const telemetry = options.telemetry !== false;
    this.router = new Router({
      interceptors: telemetry ? [createServerTelemetryInterceptor(), ...(options.interceptors ?? [])] : (options.interceptors ?? []),
      logger,
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
      implicitCallContext: options.implicitCallContext ?? true,
      ...(telemetry ? { onCallFailed: createFailedCallLogger(logger) } : {}),
    });
    this.health = options.health === false ? undefined : addHealthService(this);
  }

  /**
   * Adds a service. Handlers are looked up on `impl` by each method's
   * `localName` (`getProduct`); missing ones answer UNIMPLEMENTED. Throws
   * ALREADY_EXISTS when the service was added before, and INVALID_ARGUMENT
   * when `impl` has handler names that match no method (for example
   * `GetProduct` or `Echo`), listing the expected names.
   */
  service<S extends DescService>(service: S, impl: ServiceImpl<S>): this {
    checkServiceImpl(service, impl);
    this.router.addService(service, impl);
    return this;
  }

  /**
   * Starts serving on a transport: a {@link ServerTransport}, or a URL whose
   * scheme names one — `grpc://HOST:PORT` (gRPC over cleartext HTTP/2; port 0
   * picks a free port) or `inproc://NAME`; other schemes are added by their
   * transports' modules (see docs/transports.md). Resolves with the bound
   * address. Rejects with the listener's error (for example `EADDRINUSE`).
   */
  async listen(transport: ServerTransport | string): Promise<ListeningAddress> {
    if (this.#state !== "serving") throw new FerryError(Code.UNAVAILABLE, "server is shutting down");
    const t = typeof transport === "string" ? await serverTransportFromUrl(transport) : transport;
    const address = await t.start(this.router);
    this.#transports.push(t);
    this.#addresses.push(address);
    return address;
  }

  /** The addresses this server listens on. */
  get addresses(): readonly ListeningAddress[] {
    return this.#addresses;
  }

  /** `"serving"`, `"draining"` while shutting down, then `"stopped"`. */
  get state(): "serving" | "draining" | "stopped" {
    return this.#state;
  }

  /**
   * Graceful shutdown: every transport stops accepting calls, in-flight calls
   * get up to `graceMs` (default 10 000 ms) to finish, then the rest are
   * cancelled and connections closed. Safe to call more than once.
   */
  async shutdown(graceMs = 10_000): Promise<void> {
    if (this.#state !== "serving") return;
    this.#setState("draining");
    await Promise.all(this.#transports.map((t) => t.shutdown(graceMs)));
    this.#setState("stopped");
  }

  /**
   * Calls `listener` on every state change (`"draining"` when shutdown
   * starts, `"stopped"` when it ends), for example so that health checks
   * report NOT_SERVING while draining. Returns a function that removes it.
   */
  onStateChange(listener: (state: "serving" | "draining" | "stopped") => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** `await using server = createServer()…`: the same as {@link Server.shutdown} with its default grace. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #setState(state: "serving" | "draining" | "stopped"): void {
    this.#state = state;
    for (const l of this.#stateListeners) l(state);
  }
}

/** Creates a {@link Server}. */
export function createServer(options?: ServerOptions): Server {
  return new Server(options);
}
