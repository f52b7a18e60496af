import { Resolver } from "node:dns/promises";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { getDefaultLogger } from "../util/logger.js";
import { lookupDnsName, parseDnsName, type DnsName } from "./dns-lookup.js";
import { sortInstances } from "./instance-validation.js";
import { readOnly } from "./read-only-registry.js";
import type { RegistryOptions } from "./registry-options.js";
import type { Registration, RegistryListener, RegistryWatch, ServiceInstance, ServiceRegistry } from "./service-registry.js";
import { ServiceWatchHub, type InstanceSink, type ServiceFeed } from "./service-watch-hub.js";

/** Default re-resolution interval of the DNS registry, in milliseconds (gRPC's DNS resolver re-resolves at most every 30 s). */
export const DEFAULT_DNS_INTERVAL_MS = 30_000;
/** Default per-query timeout, in milliseconds. */
export const DEFAULT_DNS_TIMEOUT_MS = 5_000;
/** Default port for a host name given without one (as gRPC's DNS resolver). */
export const DEFAULT_DNS_PORT = 443;

/** Options of {@link createDnsRegistry}. */
export interface DnsRegistryOptions extends RegistryOptions {
  /** DNS servers as `ip[:port]`; default the system's (`/etc/resolv.conf`). */
  servers?: readonly string[];
  /** Transport of the endpoints made from the records (`<transport>://ip:port`); default `"grpc"`. */
  transport?: string;
  /** Port for a host name without one; default 443. */
  defaultPort?: number;
  /** Re-resolution interval of a watch, in milliseconds; default 30_000. After a failure the watch retries sooner (1 s, doubling, up to this). */
  intervalMs?: number;
  /** Timeout of one DNS query in milliseconds (two tries); default 5000. */
  timeoutMs?: number;
  /**
   * DNS name per service name, e.g. `{ "shop.v1.InventoryService": "_grpc._tcp.inventory.shop.svc.cluster.local" }`.
   * A service without an entry is looked up by its own name (`inventory.shop.svc.cluster.local:50051`).
   */
  names?: Readonly<Record<string, string>>;
}

/**
 * Discovery through DNS (`dns:`), as Kubernetes headless services provide:
 * A/AAAA records of `host:port` names and SRV records of `_service._proto.host`
 * names (see {@link lookupDnsName}). Watches re-resolve every `intervalMs`
 * and emit the differences. Read-only: `register()` raises FAILED_PRECONDITION.
 * Errors: INVALID_ARGUMENT for a malformed name, UNAVAILABLE when the DNS
 * server fails (a name without records is an empty list, not an error).
 */
export class DnsRegistry implements ServiceRegistry {
  readonly kind = "dns";
  readonly #resolver: Resolver;
  readonly #transport: string;
  readonly #defaultPort: number;
  readonly #intervalMs: number;
  readonly #names: Readonly<Record<string, string>>;
  readonly #hub: ServiceWatchHub;
  #closed = false;

  constructor(options: DnsRegistryOptions = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
    this.#intervalMs = options.intervalMs ?? DEFAULT_DNS_INTERVAL_MS;
    this.#defaultPort = options.defaultPort ?? DEFAULT_DNS_PORT;
    this.#transport = options.transport ?? "grpc";
    this.#names = options.names ?? {};
    if (!(this.#intervalMs >= 10) || !(timeoutMs > 0)) throw new FerryError(Code.INVALID_ARGUMENT, "dns registry: intervalMs must be >= 10 and timeoutMs > 0");
    if (!/^[a-z][a-z0-9+.-]*$/.test(this.#transport)) throw new FerryError(Code.INVALID_ARGUMENT, `dns registry: invalid transport "${this.#transport}"`);
    this.#resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
    try {
      if (options.servers !== undefined) this.#resolver.setServers([...options.servers]);
    } catch (error) {
      throw new FerryError(Code.INVALID_ARGUMENT, `dns registry: invalid servers ${JSON.stringify(options.servers)}: ${(error as Error).message}`);
    }
    for (const name of Object.values(this.#names)) parseDnsName(name, this.#defaultPort);
    this.#hub = new ServiceWatchHub((service, sink) => new DnsFeed(this, service, sink, this.#intervalMs), options.logger ?? getDefaultLogger());
  }

  register(): Promise<Registration> {
    return readOnly("dns");
  }

  async resolve(service: string): Promise<readonly ServiceInstance[]> {
    this.#checkOpen();
    return sortInstances(await lookupDnsName(this.#resolver, service, this.#dnsName(service), this.#transport));
  }

  watch(service: string, listener: RegistryListener): RegistryWatch {
    this.#checkOpen();
    this.#dnsName(service);
    return this.#hub.watch(service, listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#resolver.cancel();
    await this.#hub.close();
  }

  #dnsName(service: string): DnsName {
    return parseDnsName(this.#names[service] ?? service, this.#defaultPort);
  }

  #checkOpen(): void {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "registry is closed");
  }
}

/** Polls one service's DNS name; the first success marks the watch ready. */
class DnsFeed implements ServiceFeed {
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #failures = 0;

  constructor(
    private readonly registry: DnsRegistry,
    private readonly service: string,
    private readonly sink: InstanceSink,
    private readonly intervalMs: number,
  ) {
    void this.#poll();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #poll(): Promise<void> {
    let delayMs = this.intervalMs;
    try {
      const instances = await this.registry.resolve(this.service);
      if (this.#closed) return;
      this.#failures = 0;
      this.sink.replaceAll(instances);
      this.sink.ready();
    } catch (error) {
      if (this.#closed) return;
      this.sink.error(error);
      delayMs = Math.min(this.intervalMs, 1000 * 2 ** this.#failures++);
    }
    this.#timer = setTimeout(() => void this.#poll(), delayMs);
    this.#timer.unref();
  }
}

/** Creates a {@link DnsRegistry}; raises INVALID_ARGUMENT for bad options. */
export function createDnsRegistry(options: DnsRegistryOptions = {}): DnsRegistry {
  return new DnsRegistry(options);
}

const RESERVED = new Set(["transport", "port", "intervalMs", "timeoutMs"]);

function numberParam(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new FerryError(Code.INVALID_ARGUMENT, `invalid registry URL "${url.href}": ${name}=${value} must be a positive integer`);
  return n;
}

/**
 * Reads a `dns:` URL: `dns:` uses the system's DNS servers, `dns://10.0.0.2:53`
 * a given one; query parameters `transport`, `port` (default port),
 * `intervalMs`, `timeoutMs`, and any other `<service>=<dns name>` pair adds
 * to {@link DnsRegistryOptions.names}.
 */
export function parseDnsRegistryUrl(url: URL, options: RegistryOptions = {}): DnsRegistry {
  const names: Record<string, string> = {};
  for (const [key, value] of url.searchParams) if (!RESERVED.has(key)) names[key] = value;
  return createDnsRegistry({
    ...options,
    servers: url.host === "" ? undefined : [url.host],
    transport: url.searchParams.get("transport") ?? undefined,
    defaultPort: numberParam(url, "port"),
    intervalMs: numberParam(url, "intervalMs"),
    timeoutMs: numberParam(url, "timeoutMs"),
    names,
  });
}
