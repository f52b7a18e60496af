import type { FerryError } from "../rpc/ferry-error.js";

/** One address at which an instance serves, for one transport. */
export interface InstanceEndpoint {
  /** Transport name, e.g. `"grpc"`, `"native"`, `"inproc"` (lower case, `[a-z][a-z0-9+.-]*`). */
  readonly transport: string;
  /** Client target URL for that transport, e.g. `grpc://10.0.0.5:50051`. */
  readonly url: string;
}

/**
 * Instance metadata as given to {@link ServiceRegistry.register}. `weight`
 * (a positive finite number, default 1) drives weighted balancing; `version`
 * and `zone` are conventional keys a resolver can filter on. Every value is
 * stored as a string.
 */
export interface InstanceMetadataInit {
  version?: string;
  zone?: string;
  weight?: number;
  [key: string]: string | number | boolean | undefined;
}

/** What a service instance registers. */
export interface ServiceInstanceInit {
  /** Service name, usually the protobuf full name (`shop.v1.InventoryService`); `[A-Za-z0-9_.-]{1,255}`. */
  service: string;
  /** Unique id of the instance within its service; generated (`<host>-<pid>-<random>`) when omitted. Same charset as `service`. */
  instanceId?: string;
  /** At least one endpoint. */
  endpoints: readonly InstanceEndpoint[];
  metadata?: InstanceMetadataInit;
}

/** A registered instance as a registry reports it (normalised: metadata values are strings). */
export interface ServiceInstance {
  readonly service: string;
  readonly instanceId: string;
  readonly endpoints: readonly InstanceEndpoint[];
  readonly metadata: Readonly<Record<string, string>>;
}

/** Options of {@link ServiceRegistry.register}. */
export interface RegisterOptions {
  /**
   * Time to live in milliseconds: an instance that is not renewed within this
   * time is removed (and watchers see it go). Default 10_000; minimum 100.
   * etcd rounds it up to whole seconds (and to its own minimum lease TTL).
   */
  ttlMs?: number;
  /**
   * When true (the default) the registration renews itself every
   * `heartbeatIntervalMs`. When false the caller must call
   * {@link Registration.renew} (an application-driven health heartbeat, like
   * a Consul TTL check); a process that stops renewing disappears after `ttlMs`.
   */
  keepAlive?: boolean;
  /** Renewal period in milliseconds; default `ttlMs / 3` (etcd's keepalive period). Must be below `ttlMs`. */
  heartbeatIntervalMs?: number;
  /** Called when a background renewal fails (the registration keeps retrying at each heartbeat). */
  onError?: (error: FerryError) => void;
}

/**
 * A live registration. It renews itself (see {@link RegisterOptions.keepAlive})
 * until {@link close}, which deregisters the instance.
 */
export interface Registration {
  readonly service: string;
  readonly instanceId: string;
  /** The effective TTL in milliseconds. */
  readonly ttlMs: number;
  /** Renews the TTL now. Raises UNAVAILABLE if the backend cannot be reached, FAILED_PRECONDITION after close. */
  renew(): Promise<void>;
  /** Stops renewing and removes the instance from the registry. Idempotent. */
  close(): Promise<void>;
}

/** What changed in one {@link RegistryEvent}. */
export type RegistryChangeType = "snapshot" | "added" | "updated" | "removed";

/**
 * A change in a watched service. `instances` is always the full current list
 * (sorted by instanceId), so a listener may ignore `type` and `instance`.
 */
export interface RegistryEvent {
  /** `"snapshot"` is the first event of a watch (the list as first known, possibly empty). */
  readonly type: RegistryChangeType;
  readonly service: string;
  /** The instance added, updated or removed; absent for `"snapshot"`. */
  readonly instance?: ServiceInstance;
  readonly instances: readonly ServiceInstance[];
}

/** Receives the events of {@link ServiceRegistry.watch}. */
export interface RegistryListener {
  onEvent(event: RegistryEvent): void;
  /** A failure to read the backend (the watch keeps trying; the last list stays valid). */
  onError?(error: FerryError): void;
}

/** Handle of an active watch. */
export interface RegistryWatch {
  /** Stops the watch; no event is delivered after it resolves. Idempotent. */
  close(): Promise<void>;
}

/**
 * A service registry: instances register their endpoints and metadata under
 * a service name with a TTL; clients resolve and watch a service's instances.
 * Backends: {@link createRegistry} (`memory:`, `nats://`, `etcd://`,
 * `static:`, `dns:`). Read-only backends (`static:`, `dns:`) reject
 * `register` with FAILED_PRECONDITION.
 *
 * Errors: INVALID_ARGUMENT for a malformed instance or option, UNAVAILABLE
 * when the backend cannot be reached, FAILED_PRECONDITION after `close()`.
 */
export interface ServiceRegistry {
  /** Backend kind: `"memory"`, `"nats"`, `"etcd"`, `"static"` or `"dns"`. */
  readonly kind: string;
  /** Registers (or replaces, for the same instanceId) an instance and keeps it alive. */
  register(instance: ServiceInstanceInit, options?: RegisterOptions): Promise<Registration>;
  /** The current live instances of `service`, sorted by instanceId. */
  resolve(service: string): Promise<readonly ServiceInstance[]>;
  /** Watches `service`: a `"snapshot"` event first, then one event per change. */
  watch(service: string, listener: RegistryListener): RegistryWatch;
  /** Closes registrations made through this registry (deregistering them), watches and connections. Idempotent. */
  close(): Promise<void>;
}
