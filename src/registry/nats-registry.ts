import { Kvm, type KV } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { HeartbeatRegistration } from "./heartbeat-registration.js";
import { checkServiceName, encodeInstance, normalizeInstance, normalizeRegisterOptions, sortInstances } from "./instance-validation.js";
import { instanceKey, listService, NatsKvFeed } from "./nats-kv-feed.js";
import type { RegistryOptions } from "./registry-options.js";
import type {
  RegisterOptions,
  Registration,
  RegistryListener,
  RegistryWatch,
  ServiceInstance,
  ServiceInstanceInit,
  ServiceRegistry,
} from "./service-registry.js";
import { ServiceWatchHub } from "./service-watch-hub.js";

/** Default KV bucket of the NATS registry. */
export const DEFAULT_NATS_BUCKET = "ferry_registry";
/** Default max age of the bucket's values (storage clean-up of dead instances), in milliseconds. */
export const DEFAULT_NATS_BUCKET_MAX_AGE_MS = 60_000;

/** Options of {@link createNatsRegistry}. */
export interface NatsRegistryOptions extends RegistryOptions {
  /** Server URL(s), e.g. `"127.0.0.1:4222"`; used when `connection` is absent. Default `"127.0.0.1:4222"`. */
  servers?: string | string[];
  /** An existing connection to use (not closed by {@link ServiceRegistry.close}). */
  connection?: NatsConnection;
  /** KV bucket name (`[-\w]+`); default {@link DEFAULT_NATS_BUCKET}. Created with history 1 if missing. */
  bucket?: string;
  /**
   * Max age of the bucket's values in milliseconds when this registry creates
   * the bucket (an existing bucket keeps its own); default 60_000. Heartbeats
   * run at least every third of it, so live instances never age out.
   */
  bucketMaxAgeMs?: number;
}

/**
 * The NATS JetStream KV registry (`nats://`): one key per instance
 * (`<service>.<instanceId>`, see {@link instanceKey}) holding the instance as
 * JSON with its TTL. Heartbeats re-put the key; deregistration deletes it.
 * Readers ignore values older than their TTL and watchers drop an instance
 * when its TTL passes without a heartbeat, so a process that dies without
 * deregistering disappears after its TTL. The bucket's max age removes dead
 * values from storage. (NATS 2.11 adds per-message TTLs; this design also
 * works on older servers such as 2.9.)
 */
export class NatsRegistry implements ServiceRegistry {
  readonly kind = "nats";
  readonly #nc: NatsConnection;
  readonly #ownsConnection: boolean;
  readonly #kv: KV;
  readonly #maxAgeMs: number;
  readonly #hub: ServiceWatchHub;
  readonly #logger: Logger;
  readonly #maxInstanceBytes: number | undefined;
  readonly #registrations = new Set<Registration>();
  #closed = false;

  /** Use {@link createNatsRegistry}. */
  constructor(nc: NatsConnection, ownsConnection: boolean, kv: KV, maxAgeMs: number, options: RegistryOptions) {
    this.#nc = nc;
    this.#ownsConnection = ownsConnection;
    this.#kv = kv;
    this.#maxAgeMs = maxAgeMs;
    this.#logger = options.logger ?? getDefaultLogger();
    this.#maxInstanceBytes = options.maxInstanceBytes;
    this.#hub = new ServiceWatchHub((service, sink) => new NatsKvFeed(kv, service, sink), this.#logger);
  }

  async register(init: ServiceInstanceInit, options?: RegisterOptions): Promise<Registration> {
    this.#checkOpen();
    const instance = withoutInproc(normalizeInstance(init, this.#maxInstanceBytes));
    const opts = normalizeRegisterOptions(options);
    if (this.#maxAgeMs > 0) opts.heartbeatIntervalMs = Math.min(opts.heartbeatIntervalMs, Math.floor(this.#maxAgeMs / 3));
    const key = instanceKey(instance.service, instance.instanceId);
    const value = encodeInstance(instance, opts.ttlMs);
    const put = async (): Promise<void> => {
      await this.#guard(() => this.#kv.put(key, value), `register ${instance.instanceId} of ${instance.service}`);
    };
    await put();
    const registration: Registration = new HeartbeatRegistration({
      ...opts,
      service: instance.service,
      instanceId: instance.instanceId,
      logger: this.#logger,
      renew: put,
      deregister: () => this.#guard(() => this.#kv.delete(key), `deregister ${instance.instanceId} of ${instance.service}`),
      onClosed: () => this.#registrations.delete(registration),
    });
    this.#registrations.add(registration);
    return registration;
  }

  async resolve(service: string): Promise<readonly ServiceInstance[]> {
    this.#checkOpen();
    const name = checkServiceName(service);
    return sortInstances(await this.#guard(() => listService(this.#kv, name), `resolve ${name}`));
  }

  watch(service: string, listener: RegistryListener): RegistryWatch {
    this.#checkOpen();
    return this.#hub.watch(checkServiceName(service), listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.allSettled([...this.#registrations].map((r) => r.close()));
    this.#closed = true;
    await this.#hub.close();
    if (this.#ownsConnection) await this.#nc.close();
  }

  async #guard<T>(op: () => Promise<T>, what: string): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof FerryError) throw error;
      throw new FerryError(Code.UNAVAILABLE, `NATS registry: cannot ${what}: ${(error as Error).message}`, { cause: error });
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "registry is closed");
  }
}

/** Drops `inproc` endpoints (unreachable from another process); INVALID_ARGUMENT if none remain. */
export function withoutInproc(instance: ServiceInstance): ServiceInstance {
  const endpoints = instance.endpoints.filter((e) => e.transport !== "inproc");
  if (endpoints.length === 0) {
    throw new FerryError(Code.INVALID_ARGUMENT, `instance ${instance.instanceId} of ${instance.service} has only inproc endpoints, which other processes cannot reach`);
  }
  return endpoints.length === instance.endpoints.length ? instance : { ...instance, endpoints };
}

async function openBucket(nc: NatsConnection, bucket: string, maxAgeMs: number): Promise<{ kv: KV; maxAgeMs: number }> {
  const kvm = new Kvm(nc);
  try {
    const kv = await kvm.open(bucket);
    const status = await kv.status();
    return { kv, maxAgeMs: status.ttl };
  } catch {
    const kv = await kvm.create(bucket, { history: 1, ttl: maxAgeMs });
    return { kv, maxAgeMs };
  }
}

/**
 * Connects to NATS (or uses `options.connection`) and opens — creating if
 * needed — the registry's KV bucket. Raises UNAVAILABLE when NATS or
 * JetStream cannot be reached, INVALID_ARGUMENT for a bad bucket name or max age.
 */
export async function createNatsRegistry(options: NatsRegistryOptions = {}): Promise<NatsRegistry> {
  const bucket = options.bucket ?? DEFAULT_NATS_BUCKET;
  if (!/^[-\w]+$/.test(bucket)) throw new FerryError(Code.INVALID_ARGUMENT, `invalid NATS KV bucket name "${bucket}": expected [-A-Za-z0-9_]+`);
  const maxAgeMs = options.bucketMaxAgeMs ?? DEFAULT_NATS_BUCKET_MAX_AGE_MS;
  if (!Number.isInteger(maxAgeMs) || maxAgeMs < 0) throw new FerryError(Code.INVALID_ARGUMENT, `bucketMaxAgeMs ${maxAgeMs} must be a non-negative integer (0: no max age)`);
  const servers = options.servers ?? "127.0.0.1:4222";
  let nc = options.connection;
  try {
    nc ??= await connect({ servers, maxReconnectAttempts: -1, name: "ferry-registry" });
  } catch (error) {
    throw new FerryError(Code.UNAVAILABLE, `NATS registry: cannot connect to ${String(servers)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const opened = await openBucket(nc, bucket, maxAgeMs);
    return new NatsRegistry(nc, options.connection === undefined, opened.kv, opened.maxAgeMs, options);
  } catch (error) {
    if (options.connection === undefined) await nc.close().catch(() => undefined);
    throw new FerryError(Code.UNAVAILABLE, `NATS registry: cannot open KV bucket "${bucket}" (is JetStream enabled?): ${(error as Error).message}`, { cause: error });
  }
}
