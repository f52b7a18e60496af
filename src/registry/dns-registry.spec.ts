import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeDnsServer, type FakeDnsServer } from "../../test/support/fake-dns-server.js";
import { Code } from "../rpc/code.js";
import { createRegistry } from "./create-registry.js";
import { createDnsRegistry } from "./dns-registry.js";
import { EventRecorder } from "./testing/registry-contract.js";

let dns: FakeDnsServer;

beforeAll(async () => {
  dns = await startFakeDnsServer({
    a: {
      "inventory.shop.svc.cluster.local": ["10.0.0.5", "10.0.0.6"],
      "pod-a.inventory.shop.svc.cluster.local": ["10.0.0.5"],
      "pod-b.inventory.shop.svc.cluster.local": ["10.0.0.6"],
      "pod-c.inventory.shop.svc.cluster.local": ["10.0.0.7"],
      "v6only.local": [],
    },
    aaaa: { "inventory.shop.svc.cluster.local": ["fd00::5"], "v6only.local": ["::1"] },
    srv: {
      "_grpc._tcp.inventory.shop.svc.cluster.local": [
        { priority: 10, weight: 3, port: 50051, target: "pod-a.inventory.shop.svc.cluster.local" },
        { priority: 10, weight: 0, port: 50052, target: "pod-b.inventory.shop.svc.cluster.local" },
        { priority: 20, weight: 5, port: 50053, target: "pod-c.inventory.shop.svc.cluster.local" },
      ],
    },
  });
});
afterAll(async () => {
  await dns?.close();
});

function registry(options: { intervalMs?: number; names?: Record<string, string> } = {}) {
  return createDnsRegistry({ servers: [dns.address], timeoutMs: 500, ...options });
}

describe("DnsRegistry", () => {
  describe("resolve()", () => {
    it("turns A and AAAA records of host:port into one instance per address", async () => {
      const reg = registry();
      const instances = await reg.resolve("inventory.shop.svc.cluster.local:50051");
      expect(instances.map((i) => i.endpoints[0]?.url).sort()).toEqual(["grpc://10.0.0.5:50051", "grpc://10.0.0.6:50051", "grpc://[fd00::5]:50051"]);
      expect(instances.every((i) => i.endpoints[0]?.transport === "grpc")).toBe(true);
      await reg.close();
    });

    it("uses only the lowest SRV priority, with the records' ports and weights (0 reads as 1)", async () => {
      const reg = registry({ names: { "shop.v1.InventoryService": "_grpc._tcp.inventory.shop.svc.cluster.local" } });
      const instances = await reg.resolve("shop.v1.InventoryService");
      expect(instances.map((i) => [i.endpoints[0]?.url, i.metadata.weight])).toEqual([
        ["grpc://10.0.0.5:50051", "3"],
        ["grpc://10.0.0.6:50052", "1"],
      ]);
      await reg.close();
    });

    it("gives an empty list for a name without records", async () => {
      const reg = registry();
      expect(await reg.resolve("missing.shop.svc.cluster.local:1")).toEqual([]);
      expect(await reg.resolve("_grpc._tcp.missing.local")).toEqual([]);
      await reg.close();
    });

    it("raises UNAVAILABLE when the DNS server fails", async () => {
      const reg = registry();
      dns.failing = true;
      try {
        await expect(reg.resolve("inventory.shop.svc.cluster.local:50051")).rejects.toMatchObject({ code: Code.UNAVAILABLE });
      } finally {
        dns.failing = false;
      }
      await reg.close();
    });

    it("raises INVALID_ARGUMENT for a malformed name", async () => {
      const reg = registry();
      await expect(reg.resolve("bad name:99999")).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
      await reg.close();
    });
  });

  describe("watch()", () => {
    it("re-resolves on its interval and reports added and removed addresses", async () => {
      const reg = registry({ intervalMs: 50 });
      const recorder = new EventRecorder();
      const watch = reg.watch("pod-a.inventory.shop.svc.cluster.local:7000", recorder);
      const snapshot = await recorder.waitFor((e) => e.type === "snapshot");
      expect(snapshot.instances.map((i) => i.instanceId)).toEqual(["10.0.0.5:7000"]);
      dns.zone.a["pod-a.inventory.shop.svc.cluster.local"] = ["10.0.0.5", "10.0.0.9"];
      expect((await recorder.waitFor((e) => e.type === "added")).instance?.instanceId).toBe("10.0.0.9:7000");
      dns.zone.a["pod-a.inventory.shop.svc.cluster.local"] = ["10.0.0.9"];
      expect((await recorder.waitFor((e) => e.type === "removed")).instance?.instanceId).toBe("10.0.0.5:7000");
      await watch.close();
      dns.zone.a["pod-a.inventory.shop.svc.cluster.local"] = ["10.0.0.5"];
      await reg.close();
    });

    it("reports a failing server to onError and keeps the last list", async () => {
      const reg = registry({ intervalMs: 50 });
      const recorder = new EventRecorder();
      const watch = reg.watch("pod-b.inventory.shop.svc.cluster.local:7000", recorder);
      await recorder.waitFor((e) => e.type === "snapshot");
      dns.failing = true;
      try {
        await expect.poll(() => recorder.errors.length, { timeout: 5_000 }).toBeGreaterThan(0);
      } finally {
        dns.failing = false;
      }
      expect(recorder.errors[0]?.code).toBe(Code.UNAVAILABLE);
      expect(recorder.events.filter((e) => e.type === "removed")).toEqual([]);
      await watch.close();
      await reg.close();
    });
  });

  describe("register()", () => {
    it("is rejected with FAILED_PRECONDITION (DNS is read-only)", async () => {
      const reg = registry();
      await expect(reg.register()).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
      await reg.close();
    });
  });

  describe("createRegistry()", () => {
    it("reads the server, transport, default port and service names from a dns:// URL", async () => {
      const reg = await createRegistry(`dns://${dns.address}?transport=native&port=7000&timeoutMs=500&shop.v1.Inventory=pod-c.inventory.shop.svc.cluster.local`);
      expect(reg.kind).toBe("dns");
      const instances = await reg.resolve("shop.v1.Inventory");
      expect(instances.map((i) => i.endpoints[0])).toEqual([{ transport: "native", url: "native://10.0.0.7:7000" }]);
      expect(await reg.resolve("v6only.local")).toMatchObject([{ endpoints: [{ url: "native://[::1]:7000" }] }]);
      await reg.close();
    });
  });
});
