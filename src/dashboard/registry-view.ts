/**
 * Instances from the service registry, for the Topology view: a service
 * node (named by its `service.name`) is matched to the registry entries of
 * the RPC services its SERVER spans handle (`rpc.service`, the protobuf full
 * name the registry keys instances by). Look-ups are cached for `ttlMs`, so
 * however often pages reload the map, the registry sees at most one
 * `resolve()` per service per `ttlMs`; a registry that fails is reported,
 * never fatal.
 */
import type { ServiceInstance, ServiceRegistry } from "../registry/service-registry.js";

/** One registered instance as the map shows it. */
export interface RegisteredInstance {
  /** The RPC service it is registered under (`shop.v1.InventoryService`). */
  readonly service: string;
  readonly instanceId: string;
  /** Its endpoint URLs (`grpc://10.0.0.5:50051`). */
  readonly endpoints: readonly string[];
}

/** A cached view of a registry. */
export class RegistryView {
  readonly #registry: ServiceRegistry;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { atMs: number; instances: Promise<readonly ServiceInstance[]> }>();

  /**
   * @param registry the registry to read (not closed by the dashboard).
   * @param ttlMs how long a look-up is reused, in ms. Default 5 000.
   */
  constructor(registry: ServiceRegistry, ttlMs = 5_000) {
    this.#registry = registry;
    this.#ttlMs = ttlMs;
  }

  /** The registry's kind (`memory`, `nats`, `etcd`, `static`, `dns`). */
  get kind(): string {
    return this.#registry.kind;
  }

  /**
   * The instances registered under any of `services` (at most 16 names
   * are looked up), or the registry's error message.
   */
  async instancesOf(services: readonly string[]): Promise<{ instances: RegisteredInstance[]; error: string | undefined }> {
    const instances: RegisteredInstance[] = [];
    let error: string | undefined;
    for (const service of services.slice(0, 16)) {
      try {
        for (const i of await this.#resolve(service)) instances.push({ service, instanceId: i.instanceId, endpoints: i.endpoints.map((e) => e.url) });
      } catch (err) {
        error ??= err instanceof Error ? err.message : String(err);
      }
    }
    return { instances, error };
  }

  #resolve(service: string): Promise<readonly ServiceInstance[]> {
    const now = Date.now();
    const cached = this.#cache.get(service);
    if (cached !== undefined && now - cached.atMs < this.#ttlMs) return cached.instances;
    if (this.#cache.size >= 1_000) this.#cache.clear();
    const instances = this.#registry.resolve(service);
    this.#cache.set(service, { atMs: now, instances });
    instances.catch(() => this.#cache.delete(service)); // a failure is retried on the next look-up
    return instances;
  }
}
