import { ExponentialBackoff, type BackoffOptions } from "../resilience/backoff.js";
import type { AnyRequest, AnyResponse, StreamResponse } from "../rpc/call.js";
import type { ClientTransport } from "../rpc/client-transport.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { BalancedSubchannel } from "./balancer.js";
import { ConnectivityState } from "./connectivity-state.js";
import type { Endpoint } from "./resolver.js";

/** Creates the transport of one endpoint. */
export type TransportFor = (endpoint: Endpoint) => ClientTransport | Promise<ClientTransport>;

/** Options of a {@link Subchannel} (set by its channel). */
export interface SubchannelOptions {
  readonly endpoint: Endpoint;
  readonly transportFor: TransportFor;
  /** Delays between connection attempts after a failure (gRPC connection backoff parameters by default). */
  readonly reconnectBackoff: BackoffOptions;
  /** Weight of the newest sample in the latency EWMA, in (0, 1]. */
  readonly latencyEwmaAlpha: number;
  /** Age in ms after which the latency EWMA is forgotten. */
  readonly latencyTtlMs: number;
  /** Monotonic clock in ms. */
  readonly now: () => number;
  onStateChange(subchannel: Subchannel, previous: ConnectivityState, error: FerryError | undefined): void;
  /** Called once per call when it ends: `error` is undefined on success. */
  onCallEnded(subchannel: Subchannel, error: FerryError | undefined): void;
}

/**
 * One endpoint of a channel and its transport (gRPC's subchannel), with a
 * connectivity state and the load figures balancers read.
 *
 * Ferry's transports connect on their first call, so a subchannel is READY as
 * soon as its transport exists (IDLE → CONNECTING → READY). A call that fails
 * with a connection error moves it to TRANSIENT_FAILURE (the channel decides,
 * see {@link Subchannel.reportConnectionFailure}); after a backoff delay, or
 * as soon as a call still in flight on it succeeds, it is READY again and the
 * next call is the new connection attempt.
 */
export class Subchannel implements BalancedSubchannel {
  #endpoint: Endpoint;
  #state: ConnectivityState = ConnectivityState.IDLE;
  #transport: ClientTransport | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ewma: number | undefined;
  #ewmaAt = 0;
  #active = 0;
  readonly #backoff: ExponentialBackoff;
  #lastError: FerryError | undefined;

  constructor(readonly options: SubchannelOptions) {
    this.#endpoint = options.endpoint;
    this.#backoff = new ExponentialBackoff(options.reconnectBackoff);
  }

  get endpoint(): Endpoint {
    return this.#endpoint;
  }

  get state(): ConnectivityState {
    return this.#state;
  }

  get activeCalls(): number {
    return this.#active;
  }

  /** The error that caused the last TRANSIENT_FAILURE, if any. */
  get lastError(): FerryError | undefined {
    return this.#lastError;
  }

  get latencyEwmaMs(): number | undefined {
    if (this.#ewma === undefined) return undefined;
    return this.options.now() - this.#ewmaAt > this.options.latencyTtlMs ? undefined : this.#ewma;
  }

  /** Replaces the endpoint's weight and metadata (same URL) after a new resolution. */
  update(endpoint: Endpoint): void {
    this.#endpoint = endpoint;
  }

  /** Creates the transport when IDLE (IDLE → CONNECTING → READY, or TRANSIENT_FAILURE when creation fails). */
  connect(): void {
    if (this.#state !== ConnectivityState.IDLE) return;
    this.#setState(ConnectivityState.CONNECTING, undefined);
    Promise.resolve()
      .then(() => this.options.transportFor(this.#endpoint))
      .then(
        (transport) => {
          if (this.#state === ConnectivityState.SHUTDOWN) return void transport.close().catch(() => {});
          this.#transport = transport;
          this.#setState(ConnectivityState.READY, undefined);
        },
        (err: unknown) => {
          if (this.#state === ConnectivityState.SHUTDOWN) return;
          const error = FerryError.from(err, Code.UNAVAILABLE);
          this.#setState(ConnectivityState.TRANSIENT_FAILURE, error);
          // A bad URL or unknown scheme will not fix itself: stay failed.
          if (error.code !== Code.INVALID_ARGUMENT) this.#scheduleRetry();
        },
      );
  }

  /**
   * Marks the connection as failed (READY → TRANSIENT_FAILURE) and schedules
   * the next attempt after a backoff delay. No-op in other states.
   */
  reportConnectionFailure(error: FerryError): void {
    if (this.#state !== ConnectivityState.READY) return;
    this.#setState(ConnectivityState.TRANSIENT_FAILURE, error);
    this.#scheduleRetry();
  }

  /** Sends `request` on this subchannel's transport, tracking active calls, latency and the outcome. */
  call(request: AnyRequest): Promise<AnyResponse> {
    const transport = this.#transport;
    if (transport === undefined) return Promise.reject(new FerryError(Code.UNAVAILABLE, `subchannel ${this.#endpoint.url} is ${this.#state}`));
    this.#active++;
    const start = this.options.now();
    let pending: Promise<AnyResponse>;
    try {
      pending = transport.call(request);
    } catch (err) {
      pending = Promise.reject(err);
    }
    return pending.then(
      (res) => {
        this.#sample(this.options.now() - start);
        if (res.stream) return this.#trackStream(res);
        this.#end(undefined);
        return res;
      },
      (err: unknown) => {
        const error = FerryError.from(err);
        this.#end(error);
        throw error;
      },
    );
  }

  /** SHUTDOWN: cancels the reconnect timer and closes the transport once its in-flight calls finish. */
  async shutdown(): Promise<void> {
    if (this.#state === ConnectivityState.SHUTDOWN) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#setState(ConnectivityState.SHUTDOWN, undefined);
    const transport = this.#transport;
    this.#transport = undefined;
    await transport?.close().catch(() => {});
  }

  #setState(state: ConnectivityState, error: FerryError | undefined): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    if (error !== undefined) this.#lastError = error;
    this.options.onStateChange(this, previous, error);
  }

  #scheduleRetry(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state !== ConnectivityState.TRANSIENT_FAILURE) return;
      if (this.#transport !== undefined) {
        this.#setState(ConnectivityState.READY, undefined);
      } else {
        this.#setState(ConnectivityState.IDLE, undefined);
        this.connect();
      }
    }, this.#backoff.next());
    this.#timer.unref();
  }

  #sample(latencyMs: number): void {
    const alpha = this.options.latencyEwmaAlpha;
    const prev = this.latencyEwmaMs;
    this.#ewma = prev === undefined ? latencyMs : prev + alpha * (latencyMs - prev);
    this.#ewmaAt = this.options.now();
  }

  #end(error: FerryError | undefined): void {
    this.#active--;
    if (error === undefined) this.#recovered();
    this.options.onCallEnded(this, error);
  }

  /** A call succeeded: the connection works, so the backoff starts over and a failed subchannel is READY again. */
  #recovered(): void {
    this.#backoff.reset();
    if (this.#state !== ConnectivityState.TRANSIENT_FAILURE || this.#transport === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#setState(ConnectivityState.READY, undefined);
  }

  #trackStream(res: StreamResponse): StreamResponse {
    let ended = false;
    const end = (error: FerryError | undefined) => {
      if (ended) return;
      ended = true;
      this.#end(error);
    };
    const source = res.messages;
    const messages: AsyncIterable<StreamResponse["messages"] extends AsyncIterable<infer M> ? M : never> = {
      [Symbol.asyncIterator]() {
        const it = source[Symbol.asyncIterator]();
        return {
          async next() {
            try {
              const r = await it.next();
              if (r.done === true) end(undefined);
              return r;
            } catch (err) {
              end(FerryError.from(err));
              throw err;
            }
          },
          async return(value?: unknown) {
            end(undefined);
            return it.return ? it.return(value) : { done: true as const, value: undefined };
          },
        };
      },
    };
    return {
      stream: true,
      messages,
      get headers() {
        return res.headers;
      },
      get trailers() {
        return res.trailers;
      },
    };
  }
}
