import type { DescService } from "@bufbuild/protobuf";
import {
  applyInterceptors,
  Code,
  createChannel,
  createClient,
  createResolver,
  FerryError,
  Resilience,
  type CallHandler,
  type Channel,
  type Client,
  type ClientTransport,
  type Logger,
  type ServiceRegistry,
} from "../../../src/index.js";
import { clusterClientTls, type ClusterTls } from "./cluster-security.js";
import { shopServiceConfig } from "./shop-service-config.js";
import { observeChannel, observeResilience } from "../../../src/observability/index.js";

/** The registry target of a shop service: `registry:///shop.v1.InventoryService?transport=native`. */
export function shopTarget(service: DescService): string {
  return `registry:///${service.typeName}?transport=native`;
}

/**
 * The status codes outlier detection counts against an instance. Not
 * UNAVAILABLE: a shop service answers UNAVAILABLE when one of *its*
 * dependencies is down (checkout while payment fails), and ejecting the
 * messenger — often the only instance — would turn fast, clear failures into
 * waits for a ready endpoint. A dead instance needs no ejection: its
 * connection errors put its subchannel in TRANSIENT_FAILURE, and calls refused
 * by it are sent again to another instance (transparent retry).
 */
export const INSTANCE_FAULT_CODES: readonly Code[] = [Code.INTERNAL, Code.UNKNOWN, Code.DATA_LOSS];

/** Options of {@link ShopChannels}. */
export interface ShopChannelsOptions {
  /** The registry the targets resolve through (the process's NATS registry). */
  registry: ServiceRegistry;
  /** Where breaker and ejection events are logged. */
  logger: Logger;
  /** mTLS credentials of this process: channels present its certificate and check each server's SPIFFE ID. Default none (cleartext). */
  tls?: ClusterTls;
}

/**
 * The channels and clients one process of the separate-process shop calls the
 * others with: one {@link Channel} per service (target {@link shopTarget},
 * round robin, outlier detection), all behind one {@link Resilience} built
 * from {@link shopServiceConfig}. Outlier detection ejects an instance after
 * three INTERNAL, UNKNOWN or DATA_LOSS answers in a row; see
 * {@link INSTANCE_FAULT_CODES} for why UNAVAILABLE does not count.
 */
export class ShopChannels {
  /** The policies of every client of this process (one breaker per service config entry). */
  readonly resilience: Resilience;
  readonly #channels = new Map<string, Channel>();
  readonly #handlers = new Map<string, CallHandler>();
  readonly #o: ShopChannelsOptions;

  constructor(options: ShopChannelsOptions) {
    this.#o = options;
    this.resilience = new Resilience(shopServiceConfig());
    const { logger } = options;
    this.resilience.events.on("breaker.opened", (e) => logger.warn({ policy: e.policy, halfOpenAtMs: e.halfOpenAtMs }, "circuit breaker opened"));
    this.resilience.events.on("breaker.closed", (e) => logger.info({ policy: e.policy }, "circuit breaker closed"));
    observeResilience(this.resilience); // retries, hedges, breaker events on the call's span; breaker state gauge
  }

  /** A typed client of `service` through its channel and the resilience interceptor. */
  client<S extends DescService>(service: S): Client<S> {
    return createClient(service, this.#channel(service), { interceptors: [this.resilience.interceptor()] });
  }

  /**
   * One {@link ClientTransport} for several services (what the gateway
   * needs): each call goes to its service's channel through the resilience
   * interceptor. A call of another service fails with UNIMPLEMENTED.
   */
  router(services: readonly DescService[]): ClientTransport {
    for (const s of services) this.#handlers.set(s.typeName, applyInterceptors((req) => this.#channel(s).call(req), [this.resilience.interceptor()]));
    return {
      call: (request) => {
        const handler = this.#handlers.get(request.method.service.typeName);
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
  }

  #channel(service: DescService): Channel {
    let channel = this.#channels.get(service.typeName);
    if (channel === undefined) {
      const target = shopTarget(service);
      channel = createChannel({
        resolver: createResolver(target, { registry: this.#o.registry }),
        target,
        tls: this.#o.tls === undefined ? undefined : clusterClientTls(this.#o.tls, service),
        outlierDetection: { failureCodes: INSTANCE_FAULT_CODES, consecutiveFailures: 3, baseEjectionTimeMs: 5_000 },
      });
      const { logger } = this.#o;
      channel.events.on("endpoint.ejected", (e) => logger.warn({ target, url: e.endpoint.url, reason: e.reason }, "endpoint ejected"));
      observeChannel(channel); // ejections and subchannel states as span events and metrics
      this.#channels.set(service.typeName, channel);
    }
    return channel;
  }
}
