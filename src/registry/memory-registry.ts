import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { HeartbeatRegistration } from "./heartbeat-registration.js";
import { checkServiceName, normalizeInstance, normalizeRegisterOptions } from "./instance-validation.js";
import { MemoryStore } from "./memory-store.js";
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

/** Options of {@link createMemoryRegistry}. */
export interface MemoryRegistryOptions extends RegistryOptions {
  /** The store to share with other clients in this process; default a new one. */
  store?: MemoryStore;
}

/**
 * The embedded registry (`memory:`): instances live in this process's memory
 * (a {@link MemoryStore}), with the same TTL semantics as the distributed
 * backends — an instance not renewed within its TTL is removed and watchers
 * see it go. Events are delivered synchronously after each change.
 */
export class MemoryRegistry implements ServiceRegistry {
  readonly kind = "memory";
  /** The store behind this client; pass it to another registry to share it. */
  readonly store: MemoryStore;
  readonly #registrations = new Set<Registration>();
  readonly #watches = new Set<RegistryWatch>();
  readonly #logger: Logger;
  readonly #maxInstanceBytes: number | undefined;
  #closed = false;

  constructor(options: MemoryRegistryOptions = {}) {
    this.#logger = options.logger ?? getDefaultLogger();
    this.#maxInstanceBytes = options.maxInstanceBytes;
    this.store = options.store ?? new MemoryStore(this.#logger);
  }

  async register(init: ServiceInstanceInit, options?: RegisterOptions): Promise<Registration> {
    this.#checkOpen();
    const instance = normalizeInstance(init, this.#maxInstanceBytes);
    const opts = normalizeRegisterOptions(options);
    const owner = {};
    this.store.put(instance, owner, opts.ttlMs);
    const registration: Registration = new HeartbeatRegistration({
      ...opts,
      service: instance.service,
      instanceId: instance.instanceId,
      logger: this.#logger,
      renew: async () => {
        this.#checkOpen();
        this.store.put(instance, owner, opts.ttlMs);
      },
      deregister: async () => this.store.remove(instance.service, instance.instanceId, owner),
      onClosed: () => this.#registrations.delete(registration),
    });
    this.#registrations.add(registration);
    return registration;
  }

  async resolve(service: string): Promise<readonly ServiceInstance[]> {
    this.#checkOpen();
    return this.store.list(checkServiceName(service));
  }

  watch(service: string, listener: RegistryListener): RegistryWatch {
    this.#checkOpen();
    const inner = this.store.watch(checkServiceName(service), listener);
    const watch: RegistryWatch = {
      close: async () => {
        this.#watches.delete(watch);
        await inner.close();
      },
    };
    this.#watches.add(watch);
    return watch;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#registrations].map((r) => r.close()));
    this.#closed = true;
    await Promise.all([...this.#watches].map((w) => w.close()));
  }

  #checkOpen(): void {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "registry is closed");
  }
}

/** Creates an embedded, in-process registry; see {@link MemoryRegistry}. */
export function createMemoryRegistry(options: MemoryRegistryOptions = {}): MemoryRegistry {
  return new MemoryRegistry(options);
}
