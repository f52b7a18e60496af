import { BackendRegistry, type BackendLease, type EffectiveRegisterOptions } from "./backend-registry.js";
import { MemoryStore } from "./memory-store.js";
import type { RegistryOptions } from "./registry-options.js";
import type { RegistryListener, RegistryWatch, ServiceInstance } from "./service-registry.js";

/** Options of {@link createMemoryRegistry}. */
export interface MemoryRegistryOptions extends RegistryOptions {
  /** The store to share with other clients in this process; default a new one. */
  store?: MemoryStore;
}

/**
 * The embedded registry (`memory:`): instances live in this process's memory
 * (a {@link MemoryStore}), with the same TTL semantics as the distributed
 * backends — an instance not renewed within its TTL is removed and watchers
 * see it go. Events are delivered synchronously after each change. Unlike
 * the distributed backends it keeps `inproc` endpoints.
 */
export class MemoryRegistry extends BackendRegistry {
  readonly kind = "memory";
  /** The store behind this client; pass it to another registry to share it. */
  readonly store: MemoryStore;

  constructor(options: MemoryRegistryOptions = {}) {
    super(options);
    this.store = options.store ?? new MemoryStore(this.logger);
  }

  protected async openLease(instance: ServiceInstance, options: EffectiveRegisterOptions): Promise<BackendLease> {
    const owner = {};
    const put = async (): Promise<void> => this.store.put(instance, owner, options.ttlMs);
    await put();
    return { renew: put, deregister: async () => this.store.remove(instance.service, instance.instanceId, owner) };
  }

  protected async list(service: string): Promise<ServiceInstance[]> {
    return this.store.list(service);
  }

  protected watchService(service: string, listener: RegistryListener): RegistryWatch {
    return this.store.watch(service, listener);
  }

  protected async closeBackend(): Promise<void> {}
}

/** Creates an embedded, in-process registry; see {@link MemoryRegistry}. */
export function createMemoryRegistry(options: MemoryRegistryOptions = {}): MemoryRegistry {
  return new MemoryRegistry(options);
}
