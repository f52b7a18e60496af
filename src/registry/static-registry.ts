import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { checkServiceName, parseWeight, sortInstances } from "./instance-validation.js";
import { instanceFromUrl, readOnly } from "./read-only-registry.js";
import type { RegistryOptions } from "./registry-options.js";
import type { Registration, RegistryListener, RegistryWatch, ServiceInstance, ServiceRegistry } from "./service-registry.js";

/** One fixed endpoint: a transport URL, or a URL with a weight and metadata. */
export type StaticEndpoint = string | { url: string; weight?: number; metadata?: Record<string, string> };

/** Options of {@link createStaticRegistry}. */
export interface StaticRegistryOptions {
  /** Endpoints of every service not listed in `services` (e.g. one target serving everything). */
  endpoints?: readonly StaticEndpoint[];
  /** Endpoints per service name. */
  services?: Readonly<Record<string, readonly StaticEndpoint[]>>;
}

function toInstance(service: string, endpoint: StaticEndpoint): ServiceInstance {
  if (typeof endpoint === "string") return instanceFromUrl(service, endpoint);
  const metadata: Record<string, string> = { ...endpoint.metadata };
  if (endpoint.weight !== undefined) metadata.weight = String(parseWeight(String(endpoint.weight), true));
  return instanceFromUrl(service, endpoint.url, metadata);
}

/**
 * A fixed list of endpoints (`static:`), for tests, local set-ups and
 * targets behind a load balancer. Each URL is one instance whose instanceId
 * is the URL and whose transport is the URL's scheme (up to any `+`).
 * Read-only: `register()` raises FAILED_PRECONDITION. Watches get one
 * snapshot and no further events.
 */
export class StaticRegistry implements ServiceRegistry {
  readonly kind = "static";
  readonly #options: StaticRegistryOptions;
  #closed = false;

  constructor(options: StaticRegistryOptions) {
    for (const [service, endpoints] of Object.entries(options.services ?? {})) {
      checkServiceName(service);
      endpoints.forEach((e) => toInstance(service, e));
    }
    (options.endpoints ?? []).forEach((e) => toInstance("static", e));
    this.#options = options;
  }

  register(): Promise<Registration> {
    return readOnly("static");
  }

  async resolve(service: string): Promise<readonly ServiceInstance[]> {
    this.#checkOpen();
    return this.#list(checkServiceName(service));
  }

  watch(service: string, listener: RegistryListener): RegistryWatch {
    this.#checkOpen();
    const instances = this.#list(checkServiceName(service));
    let closed = false;
    queueMicrotask(() => {
      if (!closed) listener.onEvent({ type: "snapshot", service, instances });
    });
    return { close: async () => void (closed = true) };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #list(service: string): ServiceInstance[] {
    const endpoints = this.#options.services?.[service] ?? this.#options.endpoints ?? [];
    const unique = new Map(endpoints.map((e) => toInstance(service, e)).map((i) => [i.instanceId, i]));
    return sortInstances(unique.values());
  }

  #checkOpen(): void {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "registry is closed");
  }
}

/** Creates a {@link StaticRegistry}; raises INVALID_ARGUMENT for a malformed URL or service name. */
export function createStaticRegistry(options: StaticRegistryOptions): StaticRegistry {
  return new StaticRegistry(options);
}

function splitList(list: string): string[] {
  return list.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * Reads a `static:` URL: the path is a comma-separated list for every
 * service (`static:///grpc://a:1,grpc://b:1`), each query parameter a list
 * for one service (`static:?shop.v1.InventoryService=grpc://a:1,grpc://b:1`).
 */
export function parseStaticRegistryUrl(url: URL, _options: RegistryOptions = {}): StaticRegistry {
  const path = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  const services: Record<string, string[]> = {};
  for (const [service, list] of url.searchParams) services[service] = splitList(list);
  return createStaticRegistry({ endpoints: splitList(path), services });
}
