import type { DescService } from "@bufbuild/protobuf";
import type { Broker } from "../messaging/broker.js";
import type { Client } from "../rpc/client.js";
import type { ServiceImpl } from "../rpc/service-impl.js";
import type { Logger } from "../util/logger.js";

/** One RPC service and the implementation a started service serves it with. */
export interface ServiceBinding {
  readonly service: DescService;
  readonly impl: ServiceImpl<DescService>;
}

/** Pairs a service with its implementation, type-checked against the service's methods. */
export function implement<S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceBinding {
  return { service, impl: impl as unknown as ServiceImpl<DescService> };
}

/** What a started service hands back to the topology runner. */
export interface StartedService {
  /** The implementations of every service in the definition's `provides` (others are refused with INVALID_ARGUMENT). */
  implementations: readonly ServiceBinding[];
  /** Stops consumers and closes what the service opened; called after the process stopped serving. */
  close?(): Promise<void>;
}

/**
 * What a service receives when its process group starts it: its settings,
 * and the process's shared infrastructure. A client of another service is
 * in-process when that service runs in the same group, and goes through the
 * registry and a channel (with the topology's service config) otherwise:
 * the code is the same either way.
 */
export interface ServiceContext<C = Record<string, unknown>> {
  /** The service's name in the topology (`inventory`). */
  readonly name: string;
  /** The topology's name (`shop`). */
  readonly topology: string;
  /** The process group running it (`storefront`). */
  readonly group: string;
  /** `services.<name>.config` of the topology. Default `{}`. */
  readonly config: C;
  /** The process's logger, with `service` set. */
  readonly logger: Logger;
  /** The topology's `store` URL, or `undefined`. */
  readonly storeUrl: string | undefined;
  /** The process's broker (`broker` URL of the topology; created on first use, shared by the group's services). */
  broker(): Promise<Broker>;
  /** A typed client of `service`, in-process or remote as the topology places it. */
  client<S extends DescService>(service: S): Client<S>;
}

/**
 * A service as a topology runs it: the RPC services it provides and how to
 * start it. Consumers with no RPC service of their own give `provides: []`.
 */
export interface ServiceDefinition<C = Record<string, unknown>> {
  /** The RPC services the started service implements. */
  readonly provides: readonly DescService[];
  /** Starts it: open stores, subscribe, build the implementations. A rejection stops the group's start. */
  start(ctx: ServiceContext<C>): Promise<StartedService> | StartedService;
}

/**
 * Declares a service for a topology (an identity function that checks the
 * shape and keeps the config type):
 *
 * ```ts
 * export const inventory = defineService({
 *   provides: [InventoryService],
 *   start: (ctx) => ({ implementations: [implement(InventoryService, createInventoryService(store))] }),
 * });
 * ```
 */
export function defineService<C = Record<string, unknown>>(definition: ServiceDefinition<C>): ServiceDefinition<C> {
  return definition;
}

/** True for a value shaped like a {@link ServiceDefinition} (what a module's export must be). */
export function isServiceDefinition(value: unknown): value is ServiceDefinition {
  const v = value as Partial<ServiceDefinition> | null;
  return typeof v === "object" && v !== null && Array.isArray(v.provides) && typeof v.start === "function";
}
