import type { ConnectionOptions } from "node:tls";
import type { DescService } from "@bufbuild/protobuf";
import { createChannel, type Channel } from "../channel/channel.js";
import { createResolver } from "../registry/create-resolver.js";
import type { ServiceRegistry } from "../registry/service-registry.js";
import { Resilience } from "../resilience/resilience.js";
import { createClient, type Client } from "../rpc/client.js";
import type { ClientTransport } from "../rpc/client-transport.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { applyInterceptors, type Interceptor } from "../rpc/interceptor.js";
import type { CallHandler } from "../rpc/call.js";
import type { Server } from "../rpc/server.js";
import { createInProcessTransport } from "../transport/inproc/inproc-transport.js";
import type { Logger } from "../util/logger.js";

/**
 * Status codes outlier detection counts against an instance: INTERNAL,
 * UNKNOWN, DATA_LOSS. Not UNAVAILABLE, which a healthy instance answers when
 * one of its own dependencies is down; a dead instance's connection errors
 * take it out of the pick list anyway.
 */
export const INSTANCE_FAULT_CODES: readonly Code[] = [Code.INTERNAL, Code.UNKNOWN, Code.DATA_LOSS];

/** Options of {@link GroupClients}. */
export interface GroupClientsOptions {
  /** The server the group's services call each other on, in-process (no checks: one process trusts itself). */
  server: Server;
  /** The server the HTTP API calls local services on (through its security interceptors). Default `server`. */
  edgeServer?: Server;
  /** TLS options of the channel to a service (mTLS between groups). Default none. */
  tlsFor?: (serviceTypeName: string) => ConnectionOptions | undefined;
  /** Full names of the RPC services the group's server hosts. */
  local: ReadonlySet<string>;
  /** Where the other services are found. */
  registry: ServiceRegistry;
  /** The topology's service config (docs/resilience.md), applied to every client. Default none. */
  serviceConfig?: unknown;
  /** More client interceptors (e.g. token forwarding), after the resilience one. */
  interceptors?: readonly Interceptor[];
  logger: Logger;
}

/**
 * The clients of one process group: a service hosted by the group is called
 * in-process; any other through a channel to `registry:///<service>`
 * (native endpoints preferred, then gRPC; round robin; outlier detection on
 * {@link INSTANCE_FAULT_CODES}). Every client goes through one
 * {@link Resilience} built from the topology's service config.
 */
export class GroupClients {
  readonly resilience: Resilience | undefined;
  readonly #o: GroupClientsOptions;
  readonly #interceptors: Interceptor[];
  readonly #channels = new Map<string, Channel>();
  readonly #local: ClientTransport;
  readonly #edge: ClientTransport;

  constructor(options: GroupClientsOptions) {
    this.#o = options;
    this.resilience = options.serviceConfig === undefined ? undefined : new Resilience(options.serviceConfig);
    this.#interceptors = [...(this.resilience === undefined ? [] : [this.resilience.interceptor()]), ...(options.interceptors ?? [])];
    this.#local = createInProcessTransport(options.server);
    this.#edge = options.edgeServer === undefined ? this.#local : createInProcessTransport(options.edgeServer);
    this.resilience?.events.on("breaker.opened", (e) => options.logger.warn({ policy: e.policy, halfOpenAtMs: e.halfOpenAtMs }, "circuit breaker opened"));
  }

  /** True when `service` is hosted by this group (its calls stay in-process). */
  isLocal(service: DescService): boolean {
    return this.#o.local.has(service.typeName);
  }

  /** A typed client of `service`. */
  client<S extends DescService>(service: S): Client<S> {
    return createClient(service, this.#transport(service), { interceptors: this.#interceptors });
  }

  /**
   * One transport for several services (what the HTTP gateway needs): each
   * call goes in-process (to `edgeServer`, its checks applied) or to its
   * service's channel, through the interceptors. A call of a service not listed fails with UNIMPLEMENTED.
   */
  router(services: readonly DescService[]): ClientTransport {
    const handlers = new Map<string, CallHandler>();
    for (const s of services) {
      const transport = this.isLocal(s) ? this.#edge : this.#channel(s);
      handlers.set(s.typeName, applyInterceptors((req) => transport.call(req), this.#interceptors));
    }
    return {
      call: (request) => {
        const handler = handlers.get(request.method.service.typeName);
        if (handler === undefined) return Promise.reject(new FerryError(Code.UNIMPLEMENTED, `no route to service ${request.method.service.typeName}`));
        return handler(request);
      },
      close: () => Promise.resolve(),
    };
  }

  /** Closes every channel (in-flight calls finish first). */
  async close(): Promise<void> {
    await Promise.all([...this.#channels.values()].map((c) => c.close()));
    this.#channels.clear();
    await this.#local.close();
    if (this.#edge !== this.#local) await this.#edge.close();
  }

  #transport(service: DescService): ClientTransport {
    return this.isLocal(service) ? this.#local : this.#channel(service);
  }

  #channel(service: DescService): Channel {
    let channel = this.#channels.get(service.typeName);
    if (channel === undefined) {
      const target = `registry:///${service.typeName}?transport=native,grpc`;
      channel = createChannel({
        resolver: createResolver(target, { registry: this.#o.registry }),
        target,
        tls: this.#o.tlsFor?.(service.typeName),
        outlierDetection: { failureCodes: INSTANCE_FAULT_CODES, consecutiveFailures: 3, baseEjectionTimeMs: 5_000 },
      });
      const { logger } = this.#o;
      channel.events.on("endpoint.ejected", (e) => logger.warn({ target, url: e.endpoint.url, reason: e.reason }, "endpoint ejected"));
      this.#channels.set(service.typeName, channel);
    }
    return channel;
  }
}
