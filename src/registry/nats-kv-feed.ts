import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV, KvEntry } from "@nats-io/kv";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { decodeInstance } from "./instance-validation.js";
import type { ServiceInstance } from "./service-registry.js";
import type { InstanceSink, ServiceFeed } from "./service-watch-hub.js";

/**
 * KV key of an instance: `<service>.<instanceId>`, each part with `.` written
 * as `=2E` (KV keys are NATS subjects, `.` separates tokens; `=` never occurs
 * in service names or instance ids, so the mapping is reversible).
 */
export function instanceKey(service: string, instanceId: string): string {
  return `${encodeToken(service)}.${encodeToken(instanceId)}`;
}

/** KV key filter matching every instance of `service`. */
export function serviceKeyFilter(service: string): string {
  return `${encodeToken(service)}.*`;
}

function encodeToken(name: string): string {
  return name.replaceAll(".", "=2E");
}

/** A registry bucket: the KV handle and a way to list its keys. */
export interface RegistryBucket {
  readonly kv: KV;
  /** The keys matching a KV key filter (`svc.*`). */
  keys(filter: string): Promise<string[]>;
}

/**
 * A {@link RegistryBucket} whose keys come from the bucket stream's info
 * (`subjects_filter`), answered by the stream leader without a consumer.
 * (`kv.keys()` creates an ephemeral consumer; on nats-server 2.9 its
 * creation timed out again and again for as long as one of three replicas was
 * down, seen in test/messaging/nats-cluster.spec.ts.) Delete markers are
 * listed too; reading them yields no live instance.
 */
export function registryBucket(kv: KV, jsm: JetStreamManager, bucket: string): RegistryBucket {
  const prefix = `$KV.${bucket}.`;
  return {
    kv,
    keys: async (filter) => {
      const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: prefix + filter });
      return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
    },
  };
}

interface Live {
  readonly instance: ServiceInstance;
  readonly revision: number;
  readonly expiresAtMs: number;
}

/**
 * Reads one KV entry as a live instance, or undefined if it is a delete
 * marker, foreign data, or older than its TTL. The entry's age comes from
 * the server's timestamp (clocks are assumed in sync to well within a TTL),
 * capped at `nowMs + ttlMs` so a clock ahead of ours cannot extend it.
 */
function liveEntry(entry: KvEntry, nowMs: number): Live | undefined {
  if (entry.operation !== "PUT") return undefined;
  const stored = decodeInstance(entry.string());
  if (stored === undefined) return undefined;
  const expiresAtMs = Math.min(entry.created.getTime() + stored.ttlMs, nowMs + stored.ttlMs);
  if (expiresAtMs <= nowMs) return undefined;
  return { instance: stored.instance, revision: entry.revision, expiresAtMs };
}

/** Current live instances of `service` in the bucket, by instanceId, with their revisions. */
async function readService(bucket: RegistryBucket, service: string): Promise<Map<string, Live>> {
  const out = new Map<string, Live>();
  const keys = await bucket.keys(serviceKeyFilter(service));
  const entries = await Promise.all(keys.map((key) => bucket.kv.get(key)));
  const now = Date.now();
  for (const entry of entries) {
    const live = entry === null ? undefined : liveEntry(entry, now);
    if (live !== undefined && live.instance.service === service) out.set(live.instance.instanceId, live);
  }
  return out;
}

/** The live instances of `service` (one-shot read). */
export async function listService(bucket: RegistryBucket, service: string): Promise<ServiceInstance[]> {
  return [...(await readService(bucket, service)).values()].map((l) => l.instance);
}

/**
 * Follows one service in a KV bucket: reads the current keys, then follows a
 * KV watch from the stream sequence seen before that read (so no change is
 * lost between the two; older revisions are ignored). Deletes remove an
 * instance at once; an instance whose heartbeats stop is removed when its
 * TTL runs out (a bucket's max age drops old values without telling
 * watchers, so expiry is also tracked here). Every `resyncIntervalMs` the
 * feed also re-reads the service (stream info and direct gets, which any
 * replica answers), so heartbeats stay visible while the watch's consumer is
 * being re-created on another node of a cluster.
 */
export class NatsKvFeed implements ServiceFeed {
  readonly #bucket: RegistryBucket;
  readonly #service: string;
  readonly #sink: InstanceSink;
  readonly #live = new Map<string, Live>();
  readonly #revisions = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #stop: (() => void) | undefined;
  #closed = false;
  #failures = 0;
  #resync: NodeJS.Timeout | undefined;
  #resyncing = false;
  readonly #done: Promise<void>;

  /** `resyncIntervalMs`: period of the re-read in ms; 0 turns it off. */
  constructor(bucket: RegistryBucket, service: string, sink: InstanceSink, resyncIntervalMs = 0) {
    this.#bucket = bucket;
    this.#service = service;
    this.#sink = sink;
    if (resyncIntervalMs > 0) {
      this.#resync = setInterval(() => void this.#reread(), resyncIntervalMs);
      this.#resync.unref();
    }
    this.#done = this.#loop();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#resync);
    clearTimeout(this.#timer);
    this.#stop?.();
    await this.#done;
  }

  /** Runs the read-then-watch cycle, restarting it after a failure (1 s, doubling, up to 30 s). */
  async #loop(): Promise<void> {
    while (!this.#closed) {
      try {
        await this.#run();
      } catch (error) {
        if (this.#closed) return;
        this.#sink.error(error);
        const delayMs = Math.min(30_000, 1000 * 2 ** this.#failures++);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          this.#stop = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  async #run(): Promise<void> {
    const status = await this.#bucket.kv.status();
    const lastSeq = status.streamInfo.state.last_seq;
    const initial = await readService(this.#bucket, this.#service);
    if (this.#closed) return;
    for (const id of [...this.#live.keys()]) if (!initial.has(id)) this.#apply(id, undefined);
    for (const live of initial.values()) this.#apply(live.instance.instanceId, live);
    this.#sink.ready();
    this.#failures = 0;
    const iter = await this.#bucket.kv.watch({ key: serviceKeyFilter(this.#service), resumeFromRevision: lastSeq + 1 });
    this.#stop = () => iter.stop();
    if (this.#closed) return iter.stop();
    for await (const entry of iter) {
      if (this.#closed) break;
      const known = this.#revisions.get(entry.key);
      if (known !== undefined && entry.revision <= known) continue;
      this.#revisions.set(entry.key, entry.revision);
      const live = liveEntry(entry, Date.now());
      const id = live?.instance.instanceId ?? this.#idOfKey(entry.key);
      if (id !== undefined) this.#apply(id, live);
    }
    if (!this.#closed) throw new FerryError(Code.UNAVAILABLE, `NATS KV watch of ${this.#service} ended (connection closed?)`);
  }

  /**
   * Re-reads the service: newer revisions are applied; an instance no longer
   * live is removed unless the watch changed it during the read. Failures
   * are left to the watch loop, which reports them.
   */
  async #reread(): Promise<void> {
    if (this.#resyncing || this.#closed) return;
    this.#resyncing = true;
    try {
      const before = new Map(this.#live);
      const read = await readService(this.#bucket, this.#service);
      if (this.#closed) return;
      for (const [id, live] of read) {
        const known = this.#revisions.get(instanceKey(this.#service, id));
        if (known === undefined || live.revision > known) this.#apply(id, live);
      }
      for (const [id, live] of before) if (!read.has(id) && this.#live.get(id) === live) this.#apply(id, undefined);
    } catch {
      // the watch loop reports backend failures
    } finally {
      this.#resyncing = false;
    }
  }

  #idOfKey(key: string): string | undefined {
    const token = key.split(".")[1];
    return token === undefined ? undefined : token.replaceAll("=2E", ".");
  }

  #apply(instanceId: string, live: Live | undefined): void {
    if (live === undefined) {
      this.#live.delete(instanceId);
      this.#sink.remove(instanceId);
    } else {
      this.#revisions.set(instanceKey(this.#service, instanceId), live.revision);
      this.#live.set(instanceId, live);
      this.#sink.upsert(live.instance);
    }
    this.#schedule();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#closed || this.#live.size === 0) return;
    const next = Math.min(...[...this.#live.values()].map((l) => l.expiresAtMs));
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, next - Date.now()) + 5);
    this.#timer.unref();
  }

  #expire(): void {
    const now = Date.now();
    for (const [id, live] of this.#live) {
      if (live.expiresAtMs <= now) {
        this.#live.delete(id);
        this.#sink.remove(id);
      }
    }
    this.#schedule();
  }
}
