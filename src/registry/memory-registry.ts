import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { HeartbeatRegistration } from "./heartbeat-registration.js";
import { checkServiceName, normalizeInstance, normalizeRegisterOptions, sortInstances } from "./instance-validation.js";
import type { RegistryOptions } from "./registry-options.js";
import type {
  RegisterOptions,
  Registration,
  RegistryListener,
  RegistryWatch,
  ServiceInstance,
  ServiceInstanceInit,
  ServiceRegistry,
} from "./service-registry.js";
import { ServiceWatchHub } from "./service-watch-hub.js";

interface Lease {
  readonly instance: ServiceInstance;
  readonly owner: object;
  readonly expiry: NodeJS.Timeout;
}

/**
 * The embedded registry (`memory:`): instances live in this process's memory,
 * with the same TTL semantics as the distributed backends — an instance not
 * renewed within its TTL is removed and watchers see it go. Events are
 * delivered synchronously after each change. Timers are unref'd.
 */
export class MemoryRegistry implements ServiceRegistry {
  readonly kind = "memory";
  readonly #services = new Map<string, Map<string, Lease>>();
  readonly #registrations = new Set<Registration>();
  readonly #hub: ServiceWatchHub;
  readonly #logger: Logger;
  readonly #maxInstanceBytes: number | undefined;
  #closed = false;

  constructor(options: RegistryOptions = {}) {
    this.#logger = options.logger ?? getDefaultLogger();
    this.#maxInstanceBytes = options.maxInstanceBytes;
    this.#hub = new ServiceWatchHub((service, sink) => {
      sink.replaceAll(this.#list(service));
      queueMicrotask(() => sink.ready());
      return { close: async () => undefined };
    }, this.#logger);
  }

  async register(init: ServiceInstanceInit, options?: RegisterOptions): Promise<Registration> {
    this.#checkOpen();
    const instance = normalizeInstance(init, this.#maxInstanceBytes);
    const opts = normalizeRegisterOptions(options);
    const owner = {};
    this.#put(instance, owner, opts.ttlMs);
    const registration: Registration = new HeartbeatRegistration({
      ...opts,
      service: instance.service,
      instanceId: instance.instanceId,
      logger: this.#logger,
      renew: async () => {
        this.#checkOpen();
        this.#put(instance, owner, opts.ttlMs);
      },
      deregister: async () => this.#remove(instance.service, instance.instanceId, owner),
      onClosed: () => this.#registrations.delete(registration),
    });
    this.#registrations.add(registration);
    return registration;
  }

  async resolve(service: string): Promise<readonly ServiceInstance[]> {
    this.#checkOpen();
    return this.#list(checkServiceName(service));
  }

  watch(service: string, listener: RegistryListener): RegistryWatch {
    this.#checkOpen();
    return this.#hub.watch(checkServiceName(service), listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#registrations].map((r) => r.close()));
    this.#closed = true;
    await this.#hub.close();
    for (const leases of this.#services.values()) for (const lease of leases.values()) clearTimeout(lease.expiry);
    this.#services.clear();
  }

  #list(service: string): ServiceInstance[] {
    return sortInstances([...(this.#services.get(service)?.values() ?? [])].map((l) => l.instance));
  }

  #put(instance: ServiceInstance, owner: object, ttlMs: number): void {
    let leases = this.#services.get(instance.service);
    if (leases === undefined) this.#services.set(instance.service, (leases = new Map()));
    const old = leases.get(instance.instanceId);
    if (old !== undefined) clearTimeout(old.expiry);
    const expiry = setTimeout(() => this.#remove(instance.service, instance.instanceId, owner), ttlMs);
    expiry.unref();
    leases.set(instance.instanceId, { instance, owner, expiry });
    this.#hub.sinkFor(instance.service)?.upsert(instance);
  }

  /** Removes the instance if `owner` (the registration that last wrote it) still owns it. */
  #remove(service: string, instanceId: string, owner: object): void {
    const leases = this.#services.get(service);
    const lease = leases?.get(instanceId);
    if (leases === undefined || lease === undefined || lease.owner !== owner) return;
    clearTimeout(lease.expiry);
    leases.delete(instanceId);
    if (leases.size === 0) this.#services.delete(service);
    this.#hub.sinkFor(service)?.remove(instanceId);
  }

  #checkOpen(): void {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "registry is closed");
  }
}

/** Creates an embedded, in-process registry; see {@link MemoryRegistry}. */
export function createMemoryRegistry(options: RegistryOptions = {}): MemoryRegistry {
  return new MemoryRegistry(options);
}
