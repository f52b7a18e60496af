import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { sameInstance, sortInstances } from "./instance-validation.js";
import type { RegistryChangeType, RegistryEvent, RegistryListener, RegistryWatch, ServiceInstance } from "./service-registry.js";

/** Where a backend feed writes what it learns about one service. */
export interface InstanceSink {
  /** Adds or replaces an instance (an event only if it changed). */
  upsert(instance: ServiceInstance): void;
  /** Removes an instance (an event only if it was present). */
  remove(instanceId: string): void;
  /** Replaces the whole list, emitting one event per difference (for polling backends). */
  replaceAll(instances: readonly ServiceInstance[]): void;
  /** Marks the initial list complete: listeners get their `"snapshot"`. Later calls are ignored. */
  ready(): void;
  /** Reports a backend failure to the listeners (a non-FerryError becomes UNAVAILABLE). */
  error(error: unknown): void;
}

/** A backend's live feed for one service; closed when the last listener leaves. */
export interface ServiceFeed {
  close(): Promise<void>;
}

/** Starts a backend feed for `service`, writing into `sink`. */
export type FeedStarter = (service: string, sink: InstanceSink) => ServiceFeed;

interface Entry {
  readonly instances: Map<string, ServiceInstance>;
  readonly listeners: Set<RegistryListener>;
  sink: InstanceSink;
  feed: ServiceFeed | undefined;
  ready: boolean;
}

/**
 * Shares one backend feed per watched service among all its listeners, keeps
 * the current instance list, and turns feed writes into {@link RegistryEvent}s
 * (only real changes; a heartbeat re-writing the same instance is silent).
 * A listener that throws is logged and does not affect the others.
 */
export class ServiceWatchHub {
  readonly #entries = new Map<string, Entry>();
  readonly #start: FeedStarter;
  readonly #logger: Logger;

  constructor(start: FeedStarter, logger: Logger = getDefaultLogger()) {
    this.#start = start;
    this.#logger = logger;
  }

  /** Adds a listener; it receives a `"snapshot"` once the feed is ready (at the earliest on a later microtask). */
  watch(service: string, listener: RegistryListener): RegistryWatch {
    let entry = this.#entries.get(service);
    if (entry === undefined) {
      entry = this.#createEntry(service);
      this.#entries.set(service, entry);
      entry.listeners.add(listener);
      entry.feed = this.#start(service, entry.sink);
    } else {
      entry.listeners.add(listener);
      if (entry.ready) {
        const e = entry;
        queueMicrotask(() => {
          if (e.listeners.has(listener)) this.#deliver(listener, this.#event(service, e, "snapshot"));
        });
      }
    }
    const e = entry;
    let closed = false;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        e.listeners.delete(listener);
        if (e.listeners.size === 0 && this.#entries.get(service) === e) {
          this.#entries.delete(service);
          await e.feed?.close();
        }
      },
    };
  }

  /** The sink of a watched service, or undefined when nobody watches it. */
  sinkFor(service: string): InstanceSink | undefined {
    return this.#entries.get(service)?.sink;
  }

  /** Closes every feed and drops every listener. */
  async close(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) entry.listeners.clear();
    await Promise.all(entries.map((entry) => entry.feed?.close()));
  }

  #createEntry(service: string): Entry {
    const entry = { instances: new Map(), listeners: new Set(), feed: undefined, ready: false } as Omit<Entry, "sink"> as Entry;
    const emit = (type: RegistryChangeType, instance?: ServiceInstance): void => {
      if (!entry.ready) return;
      const event = this.#event(service, entry, type, instance);
      for (const listener of [...entry.listeners]) this.#deliver(listener, event);
    };
    const upsert = (instance: ServiceInstance): void => {
      const old = entry.instances.get(instance.instanceId);
      if (old !== undefined && sameInstance(old, instance)) return;
      entry.instances.set(instance.instanceId, instance);
      emit(old === undefined ? "added" : "updated", instance);
    };
    const remove = (instanceId: string): void => {
      const old = entry.instances.get(instanceId);
      if (old === undefined) return;
      entry.instances.delete(instanceId);
      emit("removed", old);
    };
    entry.sink = {
      upsert,
      remove,
      replaceAll: (instances) => {
        const keep = new Set(instances.map((i) => i.instanceId));
        for (const id of [...entry.instances.keys()]) if (!keep.has(id)) remove(id);
        for (const instance of instances) upsert(instance);
      },
      ready: () => {
        if (entry.ready) return;
        entry.ready = true;
        emit("snapshot");
      },
      error: (error) => {
        const err =
          error instanceof FerryError
            ? error
            : new FerryError(Code.UNAVAILABLE, `registry watch of ${service} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
        for (const listener of [...entry.listeners]) {
          try {
            listener.onError?.(err);
          } catch (thrown) {
            this.#logger.warn({ err: thrown, service }, "registry listener onError threw");
          }
        }
      },
    };
    return entry;
  }

  #event(service: string, entry: Entry, type: RegistryChangeType, instance?: ServiceInstance): RegistryEvent {
    const instances = sortInstances(entry.instances.values());
    return instance === undefined ? { type, service, instances } : { type, service, instance, instances };
  }

  #deliver(listener: RegistryListener, event: RegistryEvent): void {
    try {
      listener.onEvent(event);
    } catch (thrown) {
      this.#logger.warn({ err: thrown, service: event.service }, "registry listener threw");
    }
  }
}
