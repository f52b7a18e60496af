import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { clusterMembers, intQueryParam } from "../util/cluster-members.js";
import { importPeer } from "../util/import-peer.js";
import { createMemoryRegistry } from "./memory-registry.js";
import type { RegistryOptions } from "./registry-options.js";
import type { ServiceRegistry } from "./service-registry.js";

function invalid(url: string, why: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `invalid registry URL "${url}": ${why}`);
}

function intParam(url: URL, name: string, raw: string): number | undefined {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw invalid(raw, `${name}=${value} must be a non-negative integer`);
  return n;
}

/**
 * Creates a registry from a URL (the backend modules load on first use):
 *
 * | URL | backend |
 * |---|---|
 * | `memory:` (or empty) | `MemoryRegistry`, in-process |
 * | `nats://host[:4222][?bucket=ferry_registry&bucketMaxAgeMs=60000&servers=h2:4222,h3:4222&replicas=3]` | NATS JetStream KV (`servers`: other members of the cluster; `replicas`: of a bucket it creates, 1–5) |
 * | `etcd://host[:2379][?prefix=/ferry/registry/&connectTimeoutMs=5000&endpoints=h2:2379,h3:2379]` | etcd (lease + watch; `endpoints`: other members of the cluster) |
 * | `static:///grpc://10.0.0.5:50051,grpc://10.0.0.6:50051` | the same fixed list for every service |
 * | `static:?shop.v1.InventoryService=grpc://a:1,grpc://b:1&…` | a fixed list per service |
 * | `dns:[//dns-server:53][?transport=grpc&port=50051&intervalMs=30000]` | DNS A/AAAA and SRV records |
 *
 * NATS credentials and TLS come from the URL as for the NATS broker
 * (`nats://user:pass@host`, `nats://TOKEN@host`, `?creds=FILE`, `?nkey=FILE`,
 * `?tls=true`, `?tls_ca=FILE&tls_cert=FILE&tls_key=FILE`); etcd's as
 * `etcd://user:pass@host:2379`, TLS with `?tls=true` or
 * `?tls_ca=FILE[&tls_cert=FILE&tls_key=FILE]` (see `etcdUrlCredentials`). Raises
 * INVALID_ARGUMENT for a malformed URL or unknown scheme, UNAVAILABLE when
 * NATS or etcd cannot be reached.
 */
export async function createRegistry(url = "memory:", options: RegistryOptions = {}): Promise<ServiceRegistry> {
  if (url === "") url = "memory:";
  if (!URL.canParse(url)) throw invalid(url, "not a URL (expected memory:, nats://, etcd://, static: or dns:)");
  const u = new URL(url);
  switch (u.protocol) {
    case "memory:":
      return createMemoryRegistry(options);
    case "nats:": {
      const { createNatsRegistry } = await importPeer("@nats-io/kv", () => import("./nats-registry.js"), "the nats:// registry");
      const nats = await importPeer("@nats-io/transport-node", () => import("@nats-io/transport-node"), "the nats:// registry");
      const { natsConnectOptions } = await import("../messaging/nats/nats-connection.js");
      const connectOptions = natsConnectOptions(u, "ferry-registry", nats); // credentials and TLS, as the NATS broker adapter reads them
      return createNatsRegistry({
        ...options,
        connectOptions,
        servers: clusterMembers(u, "servers", 4222, `invalid registry URL "${url}"`),
        replicas: intQueryParam(u, "replicas", 1, 5, `invalid registry URL "${url}"`),
        bucket: u.searchParams.get("bucket") ?? undefined,
        bucketMaxAgeMs: intParam(u, "bucketMaxAgeMs", url),
      });
    }
    case "etcd:": {
      const { createEtcdRegistry, etcdUrlCredentials } = await importPeer("etcd3", () => import("./etcd-registry.js"), "the etcd:// registry");
      return createEtcdRegistry({
        ...options,
        ...etcdUrlCredentials(u),
        hosts: clusterMembers(u, "endpoints", 2379, `invalid registry URL "${url}"`).map((m) => `http://${m}`),
        prefix: u.searchParams.get("prefix") ?? undefined,
        connectTimeoutMs: intParam(u, "connectTimeoutMs", url),
      });
    }
    case "static:": {
      const { parseStaticRegistryUrl } = await import("./static-registry.js");
      return parseStaticRegistryUrl(u, options);
    }
    case "dns:": {
      const { parseDnsRegistryUrl } = await import("./dns-registry.js");
      return parseDnsRegistryUrl(u, options);
    }
    default:
      throw invalid(url, `unknown scheme "${u.protocol}" (known: memory:, nats://, etcd://, static:, dns:)`);
  }
}

let defaultRegistry: ServiceRegistry | undefined;

/** The process-wide registry used when none is configured: a lazily created `MemoryRegistry`, unless {@link setDefaultRegistry} chose another. */
export function getDefaultRegistry(): ServiceRegistry {
  return (defaultRegistry ??= createMemoryRegistry());
}

/** Replaces the process-wide default registry (e.g. with a NATS one at start-up). Does not close the previous one. */
export function setDefaultRegistry(registry: ServiceRegistry): void {
  defaultRegistry = registry;
}
