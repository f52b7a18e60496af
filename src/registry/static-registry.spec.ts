import { describe, expect, it } from "vitest";
import { Code } from "../rpc/code.js";
import { createRegistry } from "./create-registry.js";
import { createStaticRegistry } from "./static-registry.js";
import { EventRecorder } from "./testing/registry-contract.js";

describe("StaticRegistry", () => {
  describe("resolve()", () => {
    it("gives the path list of a static:/// URL to every service, one instance per URL", async () => {
      const registry = await createRegistry("static:///grpc://127.0.0.1:5001,native+unix:///run/inv.sock");
      const instances = await registry.resolve("shop.v1.InventoryService");
      expect(instances).toEqual([
        { service: "shop.v1.InventoryService", instanceId: "grpc://127.0.0.1:5001", endpoints: [{ transport: "grpc", url: "grpc://127.0.0.1:5001" }], metadata: {} },
        { service: "shop.v1.InventoryService", instanceId: "native+unix:///run/inv.sock", endpoints: [{ transport: "native", url: "native+unix:///run/inv.sock" }], metadata: {} },
      ]);
      await registry.close();
    });

    it("gives each service its own list from the query of a static: URL", async () => {
      const registry = await createRegistry("static:?shop.v1.A=grpc://a:1,grpc://b:1&shop.v1.B=grpc://c:1");
      expect((await registry.resolve("shop.v1.A")).map((i) => i.instanceId)).toEqual(["grpc://a:1", "grpc://b:1"]);
      expect((await registry.resolve("shop.v1.B")).map((i) => i.instanceId)).toEqual(["grpc://c:1"]);
      expect(await registry.resolve("shop.v1.C")).toEqual([]);
      await registry.close();
    });

    it("keeps weights and metadata given from code", async () => {
      const registry = createStaticRegistry({ services: { "shop.v1.A": [{ url: "grpc://a:1", weight: 4, metadata: { zone: "eu-1" } }] } });
      expect((await registry.resolve("shop.v1.A"))[0]?.metadata).toEqual({ zone: "eu-1", weight: "4" });
      await registry.close();
    });
  });

  describe("createStaticRegistry()", () => {
    it("rejects a malformed URL and a bad weight with INVALID_ARGUMENT", () => {
      expect(() => createStaticRegistry({ endpoints: ["not a url"] })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
      expect(() => createStaticRegistry({ services: { "shop.v1.A": [{ url: "grpc://a:1", weight: 0 }] } })).toThrow(
        expect.objectContaining({ code: Code.INVALID_ARGUMENT }),
      );
    });
  });

  describe("watch()", () => {
    it("delivers one snapshot", async () => {
      const registry = createStaticRegistry({ endpoints: ["grpc://a:1"] });
      const recorder = new EventRecorder();
      registry.watch("shop.v1.A", recorder);
      const snapshot = await recorder.waitFor((e) => e.type === "snapshot");
      expect(snapshot.instances.map((i) => i.instanceId)).toEqual(["grpc://a:1"]);
      await registry.close();
    });
  });

  describe("register()", () => {
    it("is rejected with FAILED_PRECONDITION", async () => {
      await expect(createStaticRegistry({}).register()).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
    });
  });
});

describe("createRegistry()", () => {
  it("defaults to memory and rejects an unknown scheme or a non-URL with INVALID_ARGUMENT", async () => {
    expect((await createRegistry()).kind).toBe("memory");
    await expect(createRegistry("zookeeper://127.0.0.1:2181")).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(createRegistry("no scheme")).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(createRegistry("nats://127.0.0.1:4222?bucketMaxAgeMs=-5")).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });
});
