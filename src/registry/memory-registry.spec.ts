import { afterEach, describe, expect, it, vi } from "vitest";
import { Code } from "../rpc/code.js";
import { createMemoryRegistry } from "./memory-registry.js";
import { MemoryStore } from "./memory-store.js";
import { describeRegistryContract, EventRecorder, uniqueService } from "./testing/registry-contract.js";

const endpoints = [{ transport: "grpc", url: "grpc://127.0.0.1:5001" }];

describe("MemoryRegistry", () => {
  describe("contract", () => {
    const store = new MemoryStore();
    describeRegistryContract({ create: async () => createMemoryRegistry({ store }), shortTtlMs: 300 });
  });

  describe("TTL (fake timers)", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("removes an unrenewed instance exactly when its TTL passes", async () => {
      vi.useFakeTimers();
      const registry = createMemoryRegistry();
      const service = uniqueService("fake");
      const recorder = new EventRecorder();
      registry.watch(service, recorder);
      await vi.advanceTimersByTimeAsync(0);
      await registry.register({ service, instanceId: "a", endpoints }, { ttlMs: 1_000, keepAlive: false });
      await vi.advanceTimersByTimeAsync(999);
      expect(await registry.resolve(service)).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(await registry.resolve(service)).toEqual([]);
      expect(recorder.events.map((e) => e.type)).toEqual(["snapshot", "added", "removed"]);
      await registry.close();
    });

    it("renews on its heartbeat so the instance outlives many TTLs, and close() removes it", async () => {
      vi.useFakeTimers();
      const registry = createMemoryRegistry();
      const service = uniqueService("fake");
      const reg = await registry.register({ service, instanceId: "a", endpoints }, { ttlMs: 1_000 });
      await vi.advanceTimersByTimeAsync(10_000);
      expect(await registry.resolve(service)).toHaveLength(1);
      await reg.close();
      expect(await registry.resolve(service)).toEqual([]);
      await expect(reg.renew()).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
      await registry.close();
    });
  });

  describe("register()", () => {
    it("does not let an older registration's close remove a newer one with the same instanceId", async () => {
      const registry = createMemoryRegistry();
      const service = uniqueService("owner");
      const old = await registry.register({ service, instanceId: "a", endpoints });
      await registry.register({ service, instanceId: "a", endpoints, metadata: { version: "2" } });
      await old.close();
      expect((await registry.resolve(service)).map((i) => i.metadata.version)).toEqual(["2"]);
      await registry.close();
    });

    it("rejects a TTL below 100 ms and a heartbeat not below the TTL with INVALID_ARGUMENT", async () => {
      const registry = createMemoryRegistry();
      const service = uniqueService("opts");
      await expect(registry.register({ service, endpoints }, { ttlMs: 50 })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
      await expect(registry.register({ service, endpoints }, { ttlMs: 1000, heartbeatIntervalMs: 1000 })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
      await expect(registry.register({ service: "bad/name", endpoints })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
      await registry.close();
    });

    it("rejects an instance larger than maxInstanceBytes with INVALID_ARGUMENT", async () => {
      const registry = createMemoryRegistry({ maxInstanceBytes: 200 });
      await expect(registry.register({ service: uniqueService("big"), endpoints, metadata: { blob: "x".repeat(300) } })).rejects.toMatchObject({
        code: Code.INVALID_ARGUMENT,
      });
      await registry.close();
    });
  });

  describe("watch()", () => {
    it("keeps delivering to other listeners when one throws", async () => {
      const registry = createMemoryRegistry({ logger: { error() {}, warn() {}, info() {}, debug() {} } });
      const service = uniqueService("throw");
      registry.watch(service, { onEvent: () => { throw new Error("listener bug"); } });
      const recorder = new EventRecorder();
      registry.watch(service, recorder);
      await recorder.waitFor((e) => e.type === "snapshot");
      await registry.register({ service, instanceId: "a", endpoints });
      await recorder.waitFor((e) => e.type === "added");
      await registry.close();
    });
  });
});
