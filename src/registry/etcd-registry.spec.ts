import { randomBytes } from "node:crypto";
import { Etcd3 } from "etcd3";
import { afterAll, describe, expect, it } from "vitest";
import { checkService } from "../../test/support/services.js";
import { Code } from "../rpc/code.js";
import { createRegistry } from "./create-registry.js";
import { createEtcdRegistry, EtcdRegistry } from "./etcd-registry.js";
import { describeRegistryContract, EventRecorder, uniqueService } from "./testing/registry-contract.js";
import { killHard, spawnRegistrant } from "./testing/spawn-registrant.js";

const etcd = await checkService("etcd", "127.0.0.1", 2379);
const prefix = `/ferry-test-${randomBytes(4).toString("hex")}/`;
const url = `etcd://127.0.0.1:2379?prefix=${encodeURIComponent(prefix)}`;

describe.skipIf(etcd.skip)("EtcdRegistry", () => {
  afterAll(async () => {
    const client = new Etcd3({ hosts: "http://127.0.0.1:2379" });
    await client.delete().prefix(prefix).exec();
    client.close();
  });

  describe("contract", () => {
    describeRegistryContract({ create: () => createRegistry(url), shortTtlMs: 2_000 });
  });

  describe("createRegistry()", () => {
    it("creates an etcd registry from an etcd:// URL", async () => {
      const registry = await createRegistry(url);
      expect(registry).toBeInstanceOf(EtcdRegistry);
      await registry.close();
    });

    it("raises UNAVAILABLE when etcd does not answer", async () => {
      await expect(createEtcdRegistry({ hosts: "http://127.0.0.1:1", connectTimeoutMs: 500 })).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    });

    it("raises INVALID_ARGUMENT for a prefix without a trailing slash", async () => {
      await expect(createEtcdRegistry({ prefix: "/ferry" })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    });
  });

  describe("register()", () => {
    it("rounds the TTL up to whole seconds", async () => {
      const registry = await createRegistry(url);
      const reg = await registry.register({ service: uniqueService("round"), endpoints: [{ transport: "grpc", url: "grpc://127.0.0.1:1" }] }, { ttlMs: 1_200 });
      expect(reg.ttlMs).toBe(2_000);
      await registry.close();
    });
  });

  describe("a registered process that dies", () => {
    it("is removed when its lease expires although it never deregistered", async () => {
      const registry = await createRegistry(url);
      const service = uniqueService("crash");
      const recorder = new EventRecorder();
      const watch = registry.watch(service, recorder);
      await recorder.waitFor((e) => e.type === "snapshot");
      const child = await spawnRegistrant(url, service, "child-1", 2_000);
      try {
        await recorder.waitFor((e) => e.type === "added" && e.instance?.instanceId === "child-1");
        await killHard(child);
        const removed = await recorder.waitFor((e) => e.type === "removed", 10_000);
        expect(removed.instance?.instanceId).toBe("child-1");
        expect(await registry.resolve(service)).toEqual([]);
      } finally {
        await killHard(child);
        await watch.close();
        await registry.close();
      }
    });
  });
});
