import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { BackendRegistry, withoutInproc, type BackendLease, type EffectiveRegisterOptions } from "./backend-registry.js";
import { encodeInstance } from "./instance-validation.js";
import { instanceKey, listService, NatsKvFeed, registryBucket, type RegistryBucket } from "./nats-kv-feed.js";
import type { RegistryOptions } from "./registry-options.js";
import type { RegistryListener, RegistryWatch, ServiceInstance } from "./service-registry.js";
import { ServiceWatchHub } from "./service-watch-hub.js";

/** Default KV bucket of the NATS registry. */
export const DEFAULT_NATS_BUCKET = "ferry_registry";
/** Default max age of the bucket's values (storage clean-up of dead instances), in milliseconds. */
export const DEFAULT_NATS_BUCKET_MAX_AGE_MS = 60_000;

/** Default period of a watch's re-read of its service, in milliseconds. */
export const DEFAULT_NATS_RESYNC_INTERVAL_MS = 2_000;

/** Options of {@link createNatsRegistry}. */
export interface NatsRegistryOptions extends RegistryOptions {
  /**
   * Server URL(s), e.g. `"127.0.0.1:4222"` or the members of a cluster
   * (`["a:4222", "b:4222", "c:4222"]`: the client connects to one, learns the
   * others from the server and reconnects to any live one after a loss);
   * used when `connection` is absent. Default `"127.0.0.1:4222"`.
   */
  servers?: string | string[];
  /** An existing connection to use (not closed by {@link ServiceRegistry.close}). */
  connection?: NatsConnection;
  /**
   * Further `connect` options when `connection` is absent: credentials
   * (`user`/`pass`, `token`, an NKey or creds-file `authenticator`) and `tls`,
   * as `createRegistry` reads them from a `nats://` URL (see the messaging
   * room's `natsConnectOptions`). `servers` above wins over theirs.
   */
  connectOptions?: ConnectionOptions;
  /** KV bucket name (`[-\w]+`); default {@link DEFAULT_NATS_BUCKET}. Created with history 1 if missing. */
  bucket?: string;
  /**
   * Replicas of the KV bucket when this registry creates it (JetStream
   * `num_replicas`, 1–5; needs a JetStream cluster of at least that many
   * servers; an existing bucket keeps its own). Default 1.
   */
  replicas?: number;
  /**
   * How often a watch also re-reads its service from the bucket, in ms
   * (0: never). Keeps heartbeats visible while the KV watch's consumer is
   * re-created after a NATS node is lost. Default 2000.
   */
  resyncIntervalMs?: number;
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
  readonly #bucket: RegistryBucket;
  readonly #maxAgeMs: number;
  readonly #hub: ServiceWatchHub;

  /** Use {@link createNatsRegistry}. */
  constructor(nc: NatsConnection, ownsConnection: boolean, bucket: RegistryBucket, maxAgeMs: number, options: NatsRegistryOptions) {
    super(options);
    this.#nc = nc;
    this.#ownsConnection = ownsConnection;
    this.#bucket = bucket;
    this.#maxAgeMs = maxAgeMs;
    this.#hub = new ServiceWatchHub((service, sink) => new NatsKvFeed(bucket, service, sink, options.resyncIntervalMs ?? DEFAULT_NATS_RESYNC_INTERVAL_MS), this.logger);
  }

  protected override prepare(instance: ServiceInstance): ServiceInstance {
    return withoutInproc(instance);
  }

  protected async openLease(instance: ServiceInstance, options: EffectiveRegisterOptions): Promise<BackendLease> {
    const key = instanceKey(instance.service, instance.instanceId);
    const value = encodeInstance(instance, options.ttlMs);
    const put = async (): Promise<void> => void (await this.#bucket.kv.put(key, value));
    const heartbeatIntervalMs = this.#maxAgeMs > 0 ? Math.min(options.heartbeatIntervalMs, Math.floor(this.#maxAgeMs / 3)) : undefined;
    // A put that fails (e.g. while a cluster elects a leader for a new bucket, or a new one after a node loss) is retried every 250 ms for up to one heartbeat interval.
    const renew = async (): Promise<void> => {
      const until = Date.now() + (heartbeatIntervalMs ?? options.heartbeatIntervalMs);
      for (;;) {
        try {
          return await put();
        } catch (error) {
          if (Date.now() + 250 >= until) throw error;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    };
    await renew();
    return { heartbeatIntervalMs, renew, deregister: () => this.#bucket.kv.delete(key) };
  }

  protected list(service: string): Promise<ServiceInstance[]> {
    return listService(this.#bucket, service);
  }

  protected watchService(service: string, listener: RegistryListener): RegistryWatch {
    return this.#hub.watch(service, listener);
  }

  protected async closeBackend(): Promise<void> {
    await this.#hub.close();
    if (this.#ownsConnection) await this.#nc.close();
  }
}

async function openBucket(nc: NatsConnection, bucket: string, maxAgeMs: number, replicas: number): Promise<{ kv: KV; maxAgeMs: number }> {
  const kvm = new Kvm(nc);
  try {
    const kv = await kvm.open(bucket);
    const status = await kv.status();
    return { kv, maxAgeMs: status.ttl };
  } catch {
    const kv = await kvm.create(bucket, { history: 1, ttl: maxAgeMs, replicas });
    return { kv, maxAgeMs };
  }
}

/** `nats://user:pass@host:4222` → `nats://host:4222`: error messages never carry credentials. */
function withoutCredentials(server: string): string {
  return server.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1");
}

/**
 * Connects to NATS (or uses `options.connection`) and opens — creating if
 * needed — the registry's KV bucket. Raises UNAVAILABLE when NATS or
 * JetStream cannot be reached, INVALID_ARGUMENT for a bad bucket name, max
 * age or replica count.
 */
export async function createNatsRegistry(options: NatsRegistryOptions = {}): Promise<NatsRegistry> {
  const bucket = options.bucket ?? DEFAULT_NATS_BUCKET;
  if (!/^[-\w]+$/.test(bucket)) throw new FerryError(Code.INVALID_ARGUMENT, `invalid NATS KV bucket name "${bucket}": expected [-A-Za-z0-9_]+`);
  const maxAgeMs = options.bucketMaxAgeMs ?? DEFAULT_NATS_BUCKET_MAX_AGE_MS;
  if (!Number.isInteger(maxAgeMs) || maxAgeMs < 0) throw new FerryError(Code.INVALID_ARGUMENT, `bucketMaxAgeMs ${maxAgeMs} must be a non-negative integer (0: no max age)`);
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new FerryError(Code.INVALID_ARGUMENT, `replicas ${replicas} must be an integer from 1 to 5 (JetStream's limit)`);
  const servers = options.servers ?? "127.0.0.1:4222";
  let nc = options.connection;
  try {
    nc ??= await connect({ name: "ferry-registry", ...options.connectOptions, servers, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  } catch (error) {
    const reason = /authoriz|authenticat/i.test((error as Error)?.message ?? "") ? "authentication failed" : (error as Error).message;
    throw new FerryError(Code.UNAVAILABLE, `NATS registry: cannot connect to ${[servers].flat().map(withoutCredentials).join(", ")}: ${reason}`, { cause: error });
  }
  try {
    const opened = await openBucket(nc, bucket, maxAgeMs, replicas);
    const bucketOf = registryBucket(opened.kv, await jetstreamManager(nc), bucket);
    return new NatsRegistry(nc, options.connection === undefined, bucketOf, opened.maxAgeMs, options);
  } catch (error) {
    if (options.connection === undefined) await nc.close().catch(() => undefined);
    throw new FerryError(Code.UNAVAILABLE, `NATS registry: cannot open KV bucket "${bucket}" (is JetStream enabled?): ${(error as Error).message}`, { cause: error });
  }
}
