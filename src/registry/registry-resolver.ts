import type { Endpoint, Resolver, ResolverListener } from "../channel/resolver.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { toEndpoints, type EndpointSelection } from "./endpoint-selection.js";
import type { RegistryWatch, ServiceRegistry } from "./service-registry.js";

/** Options of {@link RegistryResolver}. */
export interface RegistryResolverOptions extends EndpointSelection {
  readonly registry: ServiceRegistry;
  readonly service: string;
  /** Close `registry` when the resolver closes (for registries made for one target). Default false. */
  readonly ownsRegistry?: boolean;
}

/**
 * A {@link Resolver} over a {@link ServiceRegistry}: watches one service and
 * gives each listener the endpoint list ({@link toEndpoints}) first when the
 * registry's snapshot arrives, then after every change that alters the list.
 * Registry failures go to `onError`; the last list stays in use.
 */
export class RegistryResolver implements Resolver {
  readonly #options: RegistryResolverOptions;
  readonly #watches = new Set<RegistryWatch>();
  #closed = false;

  constructor(options: RegistryResolverOptions) {
    this.#options = options;
  }

  /** Starts delivering to `listener`. Raises FAILED_PRECONDITION after close. */
  watch(listener: ResolverListener): void {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "resolver is closed");
    let last: string | undefined;
    const watch = this.#options.registry.watch(this.#options.service, {
      onEvent: (event) => {
        const endpoints: Endpoint[] = toEndpoints(event.instances, this.#options);
        const key = JSON.stringify(endpoints);
        if (key === last) return;
        last = key;
        listener.onUpdate(endpoints);
      },
      onError: (error) => listener.onError(error),
    });
    this.#watches.add(watch);
  }

  /** Stops every watch (and closes the registry when it owns it). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#watches].map((w) => w.close()));
    this.#watches.clear();
    if (this.#options.ownsRegistry === true) await this.#options.registry.close();
  }
}
