import type { Resolver } from "../channel/resolver.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { getDefaultRegistry } from "./create-registry.js";
import { parseDnsName } from "./dns-lookup.js";
import { createDnsRegistry, DEFAULT_DNS_PORT, type DnsRegistryOptions } from "./dns-registry.js";
import { checkServiceName } from "./instance-validation.js";
import { RegistryResolver } from "./registry-resolver.js";
import type { ServiceRegistry } from "./service-registry.js";
import { createStaticRegistry } from "./static-registry.js";

/** Options of {@link createResolver}. */
export interface CreateResolverOptions {
  /** The registry of `registry:` targets; default {@link getDefaultRegistry}. */
  registry?: ServiceRegistry;
  /** Allowed transports, most preferred first, when the target has no `transport` parameter (see {@link EndpointSelection.transports}). */
  transports?: readonly string[];
  /** Options of the DNS registry made for a `dns:` target (servers, intervalMs, timeoutMs). */
  dns?: Pick<DnsRegistryOptions, "servers" | "intervalMs" | "timeoutMs" | "logger">;
}

function invalid(target: string, why: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `invalid target "${target}": ${why}`);
}

function list(value: string | null): string[] | undefined {
  if (value === null) return undefined;
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return items.length === 0 ? undefined : items;
}

/**
 * The resolver for a client target:
 *
 * | target | endpoints |
 * |---|---|
 * | `registry:///shop.v1.InventoryService[?transport=native,grpc&zone=eu-1]` | the service's instances in the registry; `transport` lists the allowed transports by preference, other parameters filter on metadata |
 * | `static:///grpc://10.0.0.5:50051,grpc://10.0.0.6:50051` | a fixed list |
 * | `dns:///inventory.shop.svc.cluster.local:50051[?transport=grpc]` | A/AAAA records (re-resolved every 30 s) |
 * | `dns://10.0.0.2:53/_grpc._tcp.inventory.shop.svc.cluster.local` | SRV records, through a given DNS server |
 * | `grpc://10.0.0.5:50051` (any other URL) | that one endpoint |
 *
 * Raises INVALID_ARGUMENT for a malformed target or service name.
 */
export function createResolver(target: string, options: CreateResolverOptions = {}): Resolver {
  if (!URL.canParse(target)) throw invalid(target, "expected a URL such as registry:///shop.v1.InventoryService or grpc://127.0.0.1:50051");
  const url = new URL(target);
  const path = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  switch (url.protocol) {
    case "registry:": {
      if (url.host !== "") throw invalid(target, "registry targets have no authority: write registry:///<service>");
      const metadata: Record<string, string> = {};
      for (const [k, v] of url.searchParams) if (k !== "transport") metadata[k] = v;
      const transports = list(url.searchParams.get("transport")) ?? options.transports;
      return new RegistryResolver({ registry: options.registry ?? getDefaultRegistry(), service: checkServiceName(path), transports, metadata });
    }
    case "static:": {
      const endpoints = list(path);
      if (endpoints === undefined) throw invalid(target, "no endpoint listed: write static:///grpc://host:port,grpc://host2:port");
      return new RegistryResolver({ registry: createStaticRegistry({ endpoints }), service: "static", ownsRegistry: true, transports: options.transports });
    }
    case "dns:": {
      if (path === "") throw invalid(target, "no name: write dns:///host:port or dns:///_grpc._tcp.host");
      parseDnsName(path, DEFAULT_DNS_PORT);
      const transport = url.searchParams.get("transport") ?? "grpc";
      const servers = url.host === "" ? options.dns?.servers : [url.host];
      const registry = createDnsRegistry({ ...options.dns, servers, transport });
      return new RegistryResolver({ registry, service: path, ownsRegistry: true });
    }
    default: {
      const registry = createStaticRegistry({ endpoints: [target] });
      return new RegistryResolver({ registry, service: "static", ownsRegistry: true });
    }
  }
}
