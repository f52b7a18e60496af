/**
 * One network address of a service instance, for one transport.
 *
 * `url` is a client target understood by a transport, e.g.
 * `grpc://10.0.0.5:50051`, `native://10.0.0.5:7000`,
 * `native+unix:///run/inventory.sock`.
 */
export interface Endpoint {
  /** Target URL; also the endpoint's identity within a service. */
  readonly url: string;
  /** The registered instance this endpoint belongs to. */
  readonly instanceId: string;
  /** Relative weight for weighted balancing; default 1. */
  readonly weight: number;
  /** Free-form instance metadata (version, zone, …). */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Watches the endpoints of one service (gRPC's resolver): calls
 * `onUpdate` with the full current list on every change, first as soon as it
 * is known. `onError` reports a failure to resolve; the last good list stays in
 * use. `close()` stops watching.
 */
export interface Resolver {
  watch(listener: ResolverListener): void;
  close(): Promise<void>;
}

/** Receives a {@link Resolver}'s updates. */
export interface ResolverListener {
  onUpdate(endpoints: readonly Endpoint[]): void;
  onError(error: Error): void;
}
