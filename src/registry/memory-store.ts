import { getDefaultLogger, type Logger } from "../util/logger.js";
import { sortInstances } from "./instance-validation.js";
import type { RegistryListener, RegistryWatch, ServiceInstance } from "./service-registry.js";
import { ServiceWatchHub } from "./service-watch-hub.js";

interface Lease {
  readonly instance: ServiceInstance;
  readonly owner: object;
  readonly expiry: NodeJS.Timeout;
}

/**
 * The shared state of in-process registries: instances with TTL timers, and
 * the watches on them. Several {@link MemoryRegistry} clients may share one
 * store, as several processes share one NATS bucket. Timers are unref'd.
 */
export class MemoryStore {
  readonly #services = new Map<string, Map<string, Lease>>();
  readonly #hub: ServiceWatchHub;

  constructor(logger: Logger = getDefaultLogger()) {
    this.#hub = new ServiceWatchHub((service, sink) => {
      sink.replaceAll(this.list(service));
      queueMicrotask(() => sink.ready());
      return { close: async () => undefined };
    }, logger);
  }

  /** The live instances of `service`, sorted by instanceId. */
  list(service: string): ServiceInstance[] {
    return sortInstances([...(this.#services.get(service)?.values() ?? [])].map((l) => l.instance));
  }

  /** Writes `instance` for `owner` (a registration), expiring it after `ttlMs` unless written again. */
  put(instance: ServiceInstance, owner: object, ttlMs: number): void {
    let leases = this.#services.get(instance.service);
    if (leases === undefined) this.#services.set(instance.service, (leases = new Map()));
    const old = leases.get(instance.instanceId);
    if (old !== undefined) clearTimeout(old.expiry);
    const expiry = setTimeout(() => this.remove(instance.service, instance.instanceId, owner), ttlMs);
    expiry.unref();
    leases.set(instance.instanceId, { instance, owner, expiry });
    this.#hub.sinkFor(instance.service)?.upsert(instance);
  }

  /** Removes the instance if `owner` (the registration that last wrote it) still owns it. */
  remove(service: string, instanceId: string, owner: object): void {
    const leases = this.#services.get(service);
    const lease = leases?.get(instanceId);
    if (leases === undefined || lease === undefined || lease.owner !== owner) return;
    clearTimeout(lease.expiry);
    leases.delete(instanceId);
    if (leases.size === 0) this.#services.delete(service);
    this.#hub.sinkFor(service)?.remove(instanceId);
  }

  /** Watches `service` (see {@link ServiceWatchHub.watch}). */
  watch(service: string, listener: RegistryListener): RegistryWatch {
    return this.#hub.watch(service, listener);
  }
}
