import { Kvm, type KV } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { BackendRegistry, withoutInproc, type BackendLease, type EffectiveRegisterOptions } from "./backend-registry.js";
import { encodeInstance } from "./instance-validation.js";
import { instanceKey, listService, NatsKvFeed } from "./nats-kv-feed.js";
import type { RegistryOptions } from "./registry-options.js";
import type { RegistryListener, RegistryWatch, ServiceInstance } from "./service-registry.js";
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
export class NatsRegistry extends BackendRegistry {
  readonly kind = "nats";
  readonly #nc: NatsConnection;
  readonly #ownsConnection: boolean;
  readonly #kv: KV;
  readonly #maxAgeMs: number;
  readonly #hub: ServiceWatchHub;

  /** Use {@link createNatsRegistry}. */
  constructor(nc: NatsConnection, ownsConnection: boolean, kv: KV, maxAgeMs: number, options: RegistryOptions) {
    super(options);
    this.#nc = nc;
    this.#ownsConnection = ownsConnection;
    this.#kv = kv;
    this.#maxAgeMs = maxAgeMs;
    this.#hub = new ServiceWatchHub((service, sink) => new NatsKvFeed(kv, service, sink), this.logger);
  }

  protected override prepare(instance: ServiceInstance): ServiceInstance {
    return withoutInproc(instance);
  }

  protected async openLease(instance: ServiceInstance, options: EffectiveRegisterOptions): Promise<BackendLease> {
    const key = instanceKey(instance.service, instance.instanceId);
    const value = encodeInstance(instance, options.ttlMs);
    const put = async (): Promise<void> => void (await this.#kv.put(key, value));
    await put();
    const heartbeatIntervalMs = this.#maxAgeMs > 0 ? Math.min(options.heartbeatIntervalMs, Math.floor(this.#maxAgeMs / 3)) : undefined;
    return { heartbeatIntervalMs, renew: put, deregister: () => this.#kv.delete(key) };
  }

  protected list(service: string): Promise<ServiceInstance[]> {
    return listService(this.#kv, service);
  }

  protected watchService(service: string, listener: RegistryListener): RegistryWatch {
    return this.#hub.watch(service, listener);
  }

  protected async closeBackend(): Promise<void> {
    await this.#hub.close();
    if (this.#ownsConnection) await this.#nc.close();
  }
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
