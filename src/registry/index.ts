/**
 * Service registry and discovery: register instances with a TTL, watch
 * services, and resolve client targets to endpoint lists for a channel.
 * See docs/discovery.md.
 */
export type {
  InstanceEndpoint,
  InstanceMetadataInit,
  RegisterOptions,
  Registration,
  RegistryChangeType,
  RegistryEvent,
  RegistryListener,
  RegistryWatch,
  ServiceInstance,
  ServiceInstanceInit,
  ServiceRegistry,
} from "./service-registry.js";
export type { RegistryOptions } from "./registry-options.js";
export { createRegistry, getDefaultRegistry, setDefaultRegistry } from "./create-registry.js";
export { createMemoryRegistry, MemoryRegistry, type MemoryRegistryOptions } from "./memory-registry.js";
export { MemoryStore } from "./memory-store.js";
// NATS and etcd load their clients only when used: createRegistry("nats://…" / "etcd://…")
// imports them on demand; their classes are exported by "ferry/registry/nats" and "ferry/registry/etcd".
export { createStaticRegistry, StaticRegistry, type StaticEndpoint, type StaticRegistryOptions } from "./static-registry.js";
export { createDnsRegistry, DnsRegistry, DEFAULT_DNS_INTERVAL_MS, DEFAULT_DNS_PORT, type DnsRegistryOptions } from "./dns-registry.js";
export { DEFAULT_TTL_MS, DEFAULT_MAX_INSTANCE_BYTES } from "./instance-validation.js";
export { toEndpoints, DEFAULT_TRANSPORT_PREFERENCE, type EndpointSelection } from "./endpoint-selection.js";
export { RegistryResolver, type RegistryResolverOptions } from "./registry-resolver.js";
export { createResolver, type CreateResolverOptions } from "./create-resolver.js";
