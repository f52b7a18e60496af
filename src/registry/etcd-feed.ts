import type { Etcd3, IKeyValue, Watcher } from "etcd3";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { decodeInstance } from "./instance-validation.js";
import type { ServiceInstance } from "./service-registry.js";
import type { InstanceSink, ServiceFeed } from "./service-watch-hub.js";

/** Key prefix of every instance of `service`: `<prefix><service>/`. */
export function servicePrefix(prefix: string, service: string): string {
  return `${prefix}${service}/`;
}

function decode(kv: IKeyValue, service: string): ServiceInstance | undefined {
  const instance = decodeInstance(kv.value.toString("utf8"))?.instance;
  return instance?.service === service ? instance : undefined;
}

/** Reads the live instances of `service` and the etcd revision of that read. */
export async function readEtcdService(client: Etcd3, prefix: string, service: string): Promise<{ instances: ServiceInstance[]; revision: string }> {
  const response = await client.getAll().prefix(servicePrefix(prefix, service)).exec();
  const instances: ServiceInstance[] = [];
  for (const kv of response.kvs) {
    const instance = decode(kv, service);
    if (instance !== undefined) instances.push(instance);
  }
  return { instances, revision: response.header.revision };
}

/**
 * Follows one service in etcd: reads the prefix, then watches it from the
 * next revision (no change lost in between). etcd deletes a key when its
 * lease expires, so an instance that stops renewing disappears here as a
 * delete event. The etcd3 watcher reconnects by itself; disconnections are
 * reported to the listeners as UNAVAILABLE.
 */
export class EtcdFeed implements ServiceFeed {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #service: string;
  readonly #sink: InstanceSink;
  #watcher: Watcher | undefined;
  #wake: (() => void) | undefined;
  #closed = false;
  readonly #started: Promise<void>;

  constructor(client: Etcd3, prefix: string, service: string, sink: InstanceSink) {
    this.#client = client;
    this.#prefix = prefix;
    this.#service = service;
    this.#sink = sink;
    this.#started = this.#startWithRetry();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#started;
    await this.#watcher?.cancel();
  }

  /** Retries the first read and watch creation after a failure (1 s, doubling, up to 30 s); afterwards the etcd3 watcher reconnects by itself. */
  async #startWithRetry(): Promise<void> {
    for (let failures = 0; !this.#closed; failures++) {
      try {
        return await this.#start();
      } catch (error) {
        if (this.#closed) return;
        this.#sink.error(new FerryError(Code.UNAVAILABLE, `etcd registry: cannot watch ${this.#service}: ${(error as Error).message}`, { cause: error }));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(30_000, 1000 * 2 ** failures));
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  async #start(): Promise<void> {
    const keyPrefix = servicePrefix(this.#prefix, this.#service);
    const { instances, revision } = await readEtcdService(this.#client, this.#prefix, this.#service);
    if (this.#closed) return;
    this.#sink.replaceAll(instances);
    this.#sink.ready();
    const watcher = await this.#client.watch().prefix(keyPrefix).startRevision(String(BigInt(revision) + 1n)).create();
    this.#watcher = watcher;
    if (this.#closed) return void (await watcher.cancel());
    watcher.on("put", (kv) => {
      const instance = decode(kv, this.#service);
      const key = kv.key.toString("utf8");
      if (instance !== undefined) this.#sink.upsert(instance);
      else this.#removeKey(key);
    });
    watcher.on("delete", (kv) => this.#removeKey(kv.key.toString("utf8")));
    watcher.on("disconnected", (error) => {
      if (!this.#closed) this.#sink.error(new FerryError(Code.UNAVAILABLE, `etcd registry: watch of ${this.#service} disconnected: ${error.message}`, { cause: error }));
    });
    watcher.on("error", (error) => {
      if (!this.#closed) this.#sink.error(new FerryError(Code.UNAVAILABLE, `etcd registry: watch of ${this.#service} failed: ${error.message}`, { cause: error }));
    });
  }

  #removeKey(key: string): void {
    this.#sink.remove(key.slice(servicePrefix(this.#prefix, this.#service).length));
  }
}
