import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { RegistryEvent, RegistryListener, ServiceRegistry } from "../service-registry.js";

/** Collects a watch's events and waits for one matching a predicate. */
export class EventRecorder implements RegistryListener {
  readonly events: RegistryEvent[] = [];
  readonly errors: FerryError[] = [];
  #waiters: Array<() => void> = [];

  onEvent(event: RegistryEvent): void {
    this.events.push(event);
    for (const wake of this.#waiters) wake();
  }

  onError(error: FerryError): void {
    this.errors.push(error);
  }

  /** Resolves with the first recorded event matching `predicate`, failing after `timeoutMs`. */
  async waitFor(predicate: (event: RegistryEvent, index: number) => boolean, timeoutMs = 8_000): Promise<RegistryEvent> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.events.find(predicate);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching registry event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => [e.type, e.instance?.instanceId]))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.#waiters = [];
    }
  }
}

/** A service name unique to this test run. */
export function uniqueService(label: string): string {
  return `test.${label}.${randomBytes(4).toString("hex")}.Service`;
}

/** What the contract suite needs from a backend. */
export interface RegistryContractSubject {
  /** Creates a fresh registry (closed by the suite). */
  create(): Promise<ServiceRegistry>;
  /** A TTL the backend honours, short enough for a fast test (e.g. 1000 ms; etcd: 2000). */
  shortTtlMs: number;
}

/**
 * The behaviour every writable backend must show, run against each of them
 * (memory, NATS KV, etcd) with real servers where they apply.
 */
export function describeRegistryContract(subject: RegistryContractSubject): void {
  let registry: ServiceRegistry;
  let other: ServiceRegistry;
  beforeAll(async () => {
    registry = await subject.create();
    other = await subject.create();
  });
  afterAll(async () => {
    await registry?.close();
    await other?.close();
  });
  const endpoints = [
    { transport: "grpc", url: "grpc://127.0.0.1:5001" },
    { transport: "native", url: "native://127.0.0.1:7001" },
  ];

  describe("register()", () => {
    it("makes the instance resolvable with normalised metadata, from another client too", async () => {
      const service = uniqueService("reg");
      const reg = await registry.register({ service, instanceId: "a-1", endpoints, metadata: { version: "1.2.0", zone: "eu-1", weight: 3 } });
      const expected = { service, instanceId: "a-1", endpoints, metadata: { version: "1.2.0", zone: "eu-1", weight: "3" } };
      expect(await registry.resolve(service)).toEqual([expected]);
      expect(await other.resolve(service)).toEqual([expected]);
      await reg.close();
      expect(await other.resolve(service)).toEqual([]);
    });

    it("rejects an instance without endpoints with INVALID_ARGUMENT", async () => {
      const error = await registry.register({ service: uniqueService("bad"), endpoints: [] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FerryError);
      expect((error as FerryError).code).toBe(Code.INVALID_ARGUMENT);
    });

    it("rejects a malformed endpoint URL and weight with INVALID_ARGUMENT", async () => {
      const service = uniqueService("bad");
      await expect(registry.register({ service, endpoints: [{ transport: "grpc", url: "not a url" }] })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
      await expect(registry.register({ service, endpoints, metadata: { weight: -1 } })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    });
  });

  describe("watch()", () => {
    it("delivers a snapshot, then added, updated and removed events", async () => {
      const service = uniqueService("watch");
      const first = await registry.register({ service, instanceId: "a-1", endpoints });
      const recorder = new EventRecorder();
      const watch = other.watch(service, recorder);
      const snapshot = await recorder.waitFor((e) => e.type === "snapshot");
      expect(snapshot.instances.map((i) => i.instanceId)).toEqual(["a-1"]);
      const second = await registry.register({ service, instanceId: "b-2", endpoints });
      const added = await recorder.waitFor((e) => e.type === "added");
      expect(added.instance?.instanceId).toBe("b-2");
      expect(added.instances.map((i) => i.instanceId)).toEqual(["a-1", "b-2"]);
      const replaced = await registry.register({ service, instanceId: "b-2", endpoints, metadata: { zone: "eu-2" } });
      const updated = await recorder.waitFor((e) => e.type === "updated");
      expect(updated.instance?.metadata).toEqual({ zone: "eu-2" });
      await first.close();
      const removed = await recorder.waitFor((e) => e.type === "removed");
      expect(removed.instance?.instanceId).toBe("a-1");
      expect(removed.instances.map((i) => i.instanceId)).toEqual(["b-2"]);
      await watch.close();
      await Promise.all([second.close(), replaced.close()]);
    });

    it("does not emit an event for a heartbeat that changes nothing", async () => {
      const service = uniqueService("quiet");
      const reg = await registry.register({ service, instanceId: "a-1", endpoints });
      const recorder = new EventRecorder();
      const watch = other.watch(service, recorder);
      await recorder.waitFor((e) => e.type === "snapshot");
      await reg.renew();
      await reg.renew();
      const marker = await registry.register({ service, instanceId: "z-9", endpoints });
      await recorder.waitFor((e) => e.type === "added");
      expect(recorder.events.map((e) => e.type)).toEqual(["snapshot", "added"]);
      await Promise.all([watch.close(), reg.close(), marker.close()]);
    });
  });

  describe("TTL", () => {
    it("removes an instance whose heartbeats stop, and watchers see it go", async () => {
      const service = uniqueService("ttl");
      const recorder = new EventRecorder();
      const watch = other.watch(service, recorder);
      await recorder.waitFor((e) => e.type === "snapshot");
      const reg = await registry.register({ service, instanceId: "dies-1", endpoints }, { ttlMs: subject.shortTtlMs, keepAlive: false });
      await recorder.waitFor((e) => e.type === "added");
      const removed = await recorder.waitFor((e) => e.type === "removed", subject.shortTtlMs * 3 + 5_000);
      expect(removed.instance?.instanceId).toBe("dies-1");
      expect(await other.resolve(service)).toEqual([]);
      await watch.close();
      await reg.close();
    });

    it("re-adds an expired instance on the next renew()", async () => {
      const service = uniqueService("revive");
      const recorder = new EventRecorder();
      const watch = other.watch(service, recorder);
      await recorder.waitFor((e) => e.type === "snapshot");
      const reg = await registry.register({ service, instanceId: "back-1", endpoints }, { ttlMs: subject.shortTtlMs, keepAlive: false });
      await recorder.waitFor((e) => e.type === "removed", subject.shortTtlMs * 3 + 5_000);
      const events = recorder.events.length;
      await reg.renew();
      const added = await recorder.waitFor((e, i) => e.type === "added" && i >= events);
      expect(added.instance?.instanceId).toBe("back-1");
      await watch.close();
      await reg.close();
    });

    it("keeps an instance registered past its TTL while it heartbeats", async () => {
      const service = uniqueService("alive");
      const reg = await registry.register({ service, instanceId: "lives-1", endpoints }, { ttlMs: subject.shortTtlMs });
      await new Promise((resolve) => setTimeout(resolve, subject.shortTtlMs * 1.5));
      expect((await other.resolve(service)).map((i) => i.instanceId)).toEqual(["lives-1"]);
      await reg.close();
      expect(await other.resolve(service)).toEqual([]);
    });
  });

  describe("close()", () => {
    it("deregisters what the registry registered and rejects later calls with FAILED_PRECONDITION", async () => {
      const service = uniqueService("close");
      const temp = await subject.create();
      await temp.register({ service, instanceId: "a-1", endpoints });
      expect(await other.resolve(service)).toHaveLength(1);
      await temp.close();
      expect(await other.resolve(service)).toEqual([]);
      await expect(temp.resolve(service)).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
    });
  });
}
