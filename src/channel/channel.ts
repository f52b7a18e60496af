import type { BackoffOptions } from "../resilience/backoff.js";
import type { AnyRequest, AnyResponse } from "../rpc/call.js";
import type { ClientTransport } from "../rpc/client-transport.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { clientTransportFromUrl, type ClientTransportOptions } from "../rpc/transport-registry.js";
import type { Balancer } from "./balancer.js";
import { ChannelEvents, type ChannelEventMap } from "./channel-events.js";
import { isConnectionError, isNeverSent } from "./connection-error.js";
import { ConnectivityState } from "./connectivity-state.js";
import { createBalancer, type BalancerName } from "./create-balancer.js";
import { OutlierDetector, type EjectionInfo, type OutlierDetectionOptions } from "./outlier-detection.js";
import { PickQueue } from "./pick-queue.js";
import { dropPicker, failingPicker, queuePicker, type PickResult, type Picker } from "./picker.js";
import type { Endpoint, Resolver } from "./resolver.js";
import { Subchannel, type TransportFor } from "./subchannel.js";
import { recordEndpointPicked } from "../observability/policy-events-telemetry.js";

/** Options of {@link createChannel}. */
export interface ChannelOptions {
  /** Where endpoints come from; the channel watches it until `close()` and then closes it. */
  resolver: Resolver;
  /** A balancer, or a built-in one's name. Default `"round_robin"`. */
  balancer?: Balancer | BalancerName;
  /** Creates each endpoint's transport. Default: `clientTransportFromUrl(endpoint.url, { tls })` (the URL's scheme picks the transport). */
  transportFor?: TransportFor;
  /**
   * TLS client credentials for every subchannel the default `transportFor`
   * creates (gRPC's channel credentials): `ca` to check servers with, `cert`
   * and `key` for mTLS, `checkServerIdentity` (e.g. `checkServerSpiffeId`
   * from `ferry/auth`), `servername`. Endpoints resolved as `natives://` and
   * `grpcs://` connect with them; cleartext `native://` and `grpc://`
   * endpoints are refused (their subchannel stays in TRANSIENT_FAILURE with
   * INVALID_ARGUMENT, and calls fail with UNAVAILABLE naming it), so a
   * registry entry cannot make the channel send credentials in cleartext.
   * Default none: TLS endpoints are checked against the system CAs.
   */
  tls?: ClientTransportOptions["tls"];
  /** Name used in events and error messages. Default `"channel"`. */
  target?: string;
  /**
   * When true (default), calls wait while no endpoint is ready — none
   * resolved yet, empty resolution, all connecting or failing — until one is,
   * up to their deadline. When false, calls fail at once with UNAVAILABLE when
   * every endpoint is in TRANSIENT_FAILURE or the resolution is empty (they
   * still wait for the first resolution and for connecting endpoints).
   */
  waitForReady?: boolean;
  /** How long a waiting call without a deadline waits before failing with UNAVAILABLE, in ms. Default 10,000. */
  waitForReadyTimeoutMs?: number;
  /** Outlier detection options, or `false` to turn it off. Default: on, with its defaults. */
  outlierDetection?: OutlierDetectionOptions | false;
  /** Delays between reconnection attempts of a failed subchannel. Default: 1 s × 1.6ⁿ up to 120 s (gRPC connection backoff), full jitter. */
  reconnectBackoff?: BackoffOptions;
  /** Weight of the newest latency sample in each subchannel's EWMA, in (0, 1]. Default 0.3. */
  latencyEwmaAlpha?: number;
  /** A latency EWMA older than this (ms) is forgotten, so an endpoint slow once gets traffic again. Default 10,000. */
  latencyTtlMs?: number;
  /** Event emitter to use (share one between channels). Default: a new one, at `channel.events`. */
  events?: ChannelEvents;
}

/** Default {@link ChannelOptions.waitForReadyTimeoutMs}. */
export const DEFAULT_WAIT_FOR_READY_TIMEOUT_MS = 10_000;
const DEFAULT_RECONNECT_BACKOFF: BackoffOptions = { initialBackoffMs: 1_000, maxBackoffMs: 120_000, backoffMultiplier: 1.6 };

/** A read-only view of one subchannel, for dashboards and tests. */
export interface SubchannelInfo {
  readonly endpoint: Endpoint;
  readonly state: ConnectivityState;
  readonly ejected: boolean;
  readonly activeCalls: number;
  readonly latencyEwmaMs: number | undefined;
}

/**
 * A client transport over many endpoints (gRPC's channel): watches a
 * resolver, keeps one {@link Subchannel} per endpoint URL, builds a new
 * immutable {@link Picker} on every state change and sends each call on the
 * subchannel the picker chooses. See docs/channels.md.
 *
 * Errors of `call`: the chosen transport's FerryError; while waiting for a
 * ready endpoint, DEADLINE_EXCEEDED at the call's deadline, CANCELLED on its
 * signal, UNAVAILABLE after `waitForReadyTimeoutMs` without a deadline (the
 * message says why nothing is ready, with the resolver's last error) or
 * after `close()`.
 */
export class Channel implements ClientTransport {
  /** State changes, picker updates, ejections (see {@link ChannelEventMap}). */
  readonly events: ChannelEvents;
  readonly target: string;
  readonly #o: ChannelOptions;
  readonly #balancer: Balancer;
  readonly #subchannels = new Map<string, Subchannel>();
  readonly #queue: PickQueue;
  readonly #outliers: OutlierDetector | undefined;
  #picker: Picker = queuePicker;
  #state: ConnectivityState = ConnectivityState.CONNECTING;
  #resolved = false;
  #resolverError: Error | undefined;
  #closing: Promise<void> | undefined;

  /** @throws FerryError INVALID_ARGUMENT for a bad option. */
  constructor(options: ChannelOptions) {
    this.#o = options;
    this.target = options.target ?? "channel";
    this.events = options.events ?? new ChannelEvents();
    this.#balancer = typeof options.balancer === "object" ? options.balancer : createBalancer(options.balancer ?? "round_robin");
    const timeoutMs = options.waitForReadyTimeoutMs ?? DEFAULT_WAIT_FOR_READY_TIMEOUT_MS;
    checkOption(timeoutMs >= 0 && Number.isFinite(timeoutMs), "waitForReadyTimeoutMs must be a finite number >= 0", timeoutMs);
    const alpha = options.latencyEwmaAlpha ?? 0.3;
    checkOption(alpha > 0 && alpha <= 1, "latencyEwmaAlpha must be in (0, 1]", alpha);
    this.#queue = new PickQueue({ waitForReady: options.waitForReady ?? true, timeoutMs, describe: () => this.#describe() });
    if (options.outlierDetection !== false) {
      this.#outliers = new OutlierDetector(options.outlierDetection ?? {}, {
        onEjected: (url, info) => this.#onEjection(url, info),
        onRestored: (url) => this.#onEjection(url, undefined),
      });
    }
    options.resolver.watch({
      onUpdate: (endpoints) => this.#onResolved(endpoints),
      onError: (error) => this.#onResolverError(error),
    });
  }

  /** The channel's aggregate connectivity state. */
  get state(): ConnectivityState {
    return this.#state;
  }

  /** The current subchannels, in resolution order. */
  get subchannels(): readonly SubchannelInfo[] {
    return [...this.#subchannels.values()].map((s) => ({
      endpoint: s.endpoint,
      state: s.state,
      ejected: this.#outliers?.isEjected(s.endpoint.url) ?? false,
      activeCalls: s.activeCalls,
      latencyEwmaMs: s.latencyEwmaMs,
    }));
  }

  /** Number of calls waiting for a ready endpoint. */
  get queuedCalls(): number {
    return this.#queue.size;
  }

  /** Asks the current picker for `request`'s subchannel (no waiting, no call). */
  pick(request: AnyRequest): PickResult {
    return this.#picker.pick(request);
  }

  /**
   * Sends one call on the picked subchannel, waiting for one when none is
   * ready. A unary-request call whose connection was refused is sent again on
   * another subchannel (transparent retry: it never left the process), at most
   * once per subchannel.
   */
  async call(request: AnyRequest): Promise<AnyResponse> {
    for (let attempt = 1; ; attempt++) {
      const subchannel = this.#pickNow(request) ?? (await this.#queue.wait(request));
      recordEndpointPicked(subchannel.endpoint.url, attempt); // Observability: a span event on the call's span
      try {
        return await subchannel.call(request);
      } catch (err) {
        const error = err as FerryError;
        if (request.stream || attempt >= this.#subchannels.size || request.signal?.aborted === true || !isNeverSent(error)) throw error;
      }
    }
  }

  /** Stops watching, fails waiting calls with UNAVAILABLE, closes every subchannel's transport (after its in-flight calls). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const error = new FerryError(Code.UNAVAILABLE, `channel ${this.target} is closed`);
    this.#outliers?.close();
    this.#setPicker(dropPicker(error), ConnectivityState.SHUTDOWN, 0);
    this.#queue.failAll(error);
    const subchannels = [...this.#subchannels.values()];
    this.#subchannels.clear();
    await Promise.all([this.#o.resolver.close().catch(() => {}), ...subchannels.map((s) => s.shutdown())]);
  }

  #pickNow(request: AnyRequest): Subchannel | undefined {
    const r = this.#picker.pick(request);
    if (r.type === "COMPLETE") return r.subchannel;
    if (r.type === "DROP" || (r.type === "TRANSIENT_FAILURE" && !(this.#o.waitForReady ?? true))) throw r.error;
    return undefined;
  }

  #onResolved(list: readonly Endpoint[]): void {
    if (this.#closing !== undefined) return;
    const endpoints = normalise(list);
    this.#resolved = true;
    if (endpoints.size > 0) this.#resolverError = undefined;
    this.#emit("resolver.update", { endpoints: [...endpoints.values()] });
    for (const [url, s] of this.#subchannels) {
      if (!endpoints.has(url)) {
        this.#subchannels.delete(url);
        void s.shutdown();
      }
    }
    const created: Subchannel[] = [];
    for (const [url, endpoint] of endpoints) {
      const existing = this.#subchannels.get(url);
      if (existing !== undefined) existing.update(endpoint);
      else created.push(this.#addSubchannel(endpoint));
    }
    this.#outliers?.setEndpoints(endpoints.keys());
    this.#rebuild();
    for (const s of created) s.connect();
  }

  #addSubchannel(endpoint: Endpoint): Subchannel {
    const s = new Subchannel({
      endpoint,
      transportFor: this.#o.transportFor ?? ((e) => clientTransportFromUrl(e.url, this.#o.tls === undefined ? undefined : { tls: this.#o.tls })),
      reconnectBackoff: this.#o.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF,
      latencyEwmaAlpha: this.#o.latencyEwmaAlpha ?? 0.3,
      latencyTtlMs: this.#o.latencyTtlMs ?? 10_000,
      now: () => performance.now(),
      onStateChange: (sc, previous, error) => this.#onSubchannelState(sc, previous, error),
      onCallEnded: (sc, error) => this.#onCallEnded(sc, error),
    });
    this.#subchannels.set(endpoint.url, s);
    return s;
  }

  #onResolverError(error: Error): void {
    if (this.#closing !== undefined) return;
    this.#resolverError = error;
    this.#emit("resolver.error", { error });
    if (!this.#resolved || this.#subchannels.size === 0) this.#rebuild();
  }

  #onSubchannelState(s: Subchannel, previous: ConnectivityState, error: FerryError | undefined): void {
    this.#emit("subchannel.state", { endpoint: s.endpoint, previous, state: s.state, error });
    if (s.state !== ConnectivityState.SHUTDOWN && this.#subchannels.get(s.endpoint.url) === s) this.#rebuild();
  }

  #onCallEnded(s: Subchannel, error: FerryError | undefined): void {
    this.#outliers?.record(s.endpoint.url, error?.code ?? Code.OK);
    if (error !== undefined && isConnectionError(error)) s.reportConnectionFailure(error);
  }

  #onEjection(url: string, info: EjectionInfo | undefined): void {
    const s = this.#subchannels.get(url);
    if (s === undefined) return;
    if (info === undefined) this.#emit("endpoint.restored", { endpoint: s.endpoint });
    else this.#emit("endpoint.ejected", { endpoint: s.endpoint, ...info });
    this.#rebuild();
  }

  /** Builds the picker for the current subchannels (gRPC's `updateState`) and re-picks queued calls. */
  #rebuild(): void {
    if (this.#closing !== undefined) return;
    const usable: Subchannel[] = [];
    let connecting = false;
    for (const s of this.#subchannels.values()) {
      if (s.state === ConnectivityState.IDLE || s.state === ConnectivityState.CONNECTING) connecting = true;
      else if (s.state === ConnectivityState.READY && !(this.#outliers?.isEjected(s.endpoint.url) ?? false)) usable.push(s);
    }
    if (usable.length > 0) {
      const picker = this.#balancer.createPicker(usable);
      const results = new Map<Subchannel, PickResult>(usable.map((s) => [s, { type: "COMPLETE", subchannel: s }]));
      this.#setPicker({ pick: (request) => results.get(picker.pick(request)) as PickResult }, ConnectivityState.READY, usable.length);
    } else if (!this.#resolved || connecting) {
      this.#setPicker(queuePicker, ConnectivityState.CONNECTING, 0);
    } else {
      this.#setPicker(failingPicker(new FerryError(Code.UNAVAILABLE, `no ready endpoint: ${this.#describe()}`)), ConnectivityState.TRANSIENT_FAILURE, 0);
    }
  }

  #setPicker(picker: Picker, state: ConnectivityState, ready: number): void {
    this.#picker = picker;
    this.#state = state;
    this.#emit("picker.updated", { state, ready, total: this.#subchannels.size, ejected: this.#outliers?.ejectedCount ?? 0 });
    this.#queue.update(picker);
  }

  /** Why no endpoint is ready, for error messages. */
  #describe(): string {
    const resolverError = this.#resolverError === undefined ? "" : `; last resolver error: ${this.#resolverError.message}`;
    if (!this.#resolved) return `${this.target}: no resolution yet${resolverError}`;
    if (this.#subchannels.size === 0) return `${this.target}: the resolver returned no endpoints${resolverError}`;
    const counts = new Map<string, number>();
    let lastError: FerryError | undefined;
    for (const s of this.#subchannels.values()) {
      const key = this.#outliers?.isEjected(s.endpoint.url) === true ? "ejected" : s.state;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      lastError = s.lastError ?? lastError;
    }
    const summary = [...counts].map(([k, n]) => `${n} ${k}`).join(", ");
    return `${this.target}: ${this.#subchannels.size} endpoint(s), ${summary}${lastError ? `; last error: ${lastError.message}` : ""}${resolverError}`;
  }

  #emit<K extends keyof ChannelEventMap>(type: K, payload: Omit<ChannelEventMap[K], "target">): void {
    if (!this.events.wants(type)) return;
    this.events.emit({ type, target: this.target, ...payload } as never);
  }
}

function checkOption(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new FerryError(Code.INVALID_ARGUMENT, `channel: ${what}, got ${String(value)}`);
}

/** Endpoints by URL (the last of duplicates wins), weights made positive and finite (default 1). */
function normalise(list: readonly Endpoint[]): Map<string, Endpoint> {
  const out = new Map<string, Endpoint>();
  for (const e of list) {
    if (typeof e?.url !== "string" || e.url === "") continue;
    const weight = typeof e.weight === "number" && e.weight > 0 && Number.isFinite(e.weight) ? e.weight : 1;
    out.set(e.url, weight === e.weight ? e : { ...e, weight });
  }
  return out;
}

/**
 * Creates a {@link Channel}: a ClientTransport that resolves, balances and
 * waits for ready, usable wherever a transport is (`createClient(Service,
 * channel)`).
 *
 * @throws FerryError INVALID_ARGUMENT for a bad option or unknown balancer name.
 */
export function createChannel(options: ChannelOptions): Channel {
  return new Channel(options);
}
