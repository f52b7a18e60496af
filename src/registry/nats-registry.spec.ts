import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { checkService } from "../../test/support/services.js";
import { Code } from "../rpc/code.js";
import { createRegistry } from "./create-registry.js";
import { createNatsRegistry, NatsRegistry } from "./nats-registry.js";
import { describeRegistryContract, EventRecorder, uniqueService } from "./testing/registry-contract.js";
import { killHard, spawnRegistrant } from "./testing/spawn-registrant.js";

const nats = await checkService("NATS", "127.0.0.1", 4222);
const bucket = `ferry_test_${randomBytes(4).toString("hex")}`;
const url = `nats://127.0.0.1:4222?bucket=${bucket}&bucketMaxAgeMs=10000`;

describe.skipIf(nats.skip)("NatsRegistry", () => {
  afterAll(async () => {
    const nc = await connect({ servers: "127.0.0.1:4222" });
    await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
    await nc.close();
  });

  describe("contract", () => {
    describeRegistryContract({ create: () => createRegistry(url), shortTtlMs: 1_000 });
  });

  describe("createRegistry()", () => {
    it("creates a NATS registry from a nats:// URL", async () => {
      const registry = await createRegistry(url);
      expect(registry).toBeInstanceOf(NatsRegistry);
      await registry.close();
    });

    it("raises UNAVAILABLE when NATS is not reachable", async () => {
      await expect(createNatsRegistry({ servers: "127.0.0.1:1", bucket })).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    });

    it("raises INVALID_ARGUMENT for a bad bucket name", async () => {
      await expect(createRegistry("nats://127.0.0.1:4222?bucket=bad.name")).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    });
  });

  describe("register()", () => {
    it("drops inproc endpoints, which other processes cannot reach", async () => {
      const registry = await createRegistry(url);
      const service = uniqueService("inproc");
      const endpoints = [{ transport: "inproc", url: "inproc://x" }, { transport: "grpc", url: "grpc://127.0.0.1:1" }];
      await registry.register({ service, instanceId: "a", endpoints });
      expect((await registry.resolve(service))[0]?.endpoints).toEqual([endpoints[1]]);
      await expect(registry.register({ service, endpoints: [endpoints[0]!] })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
      await registry.close();
    });
  });

  describe("a registered process that dies", () => {
    it("is removed after its TTL although it never deregistered", async () => {
      const registry = await createRegistry(url);
      const service = uniqueService("crash");
      const recorder = new EventRecorder();
      const watch = registry.watch(service, recorder);
      await recorder.waitFor((e) => e.type === "snapshot");
      const child = await spawnRegistrant(url, service, "child-1", 1_500);
      try {
        await recorder.waitFor((e) => e.type === "added" && e.instance?.instanceId === "child-1");
        await killHard(child);
        const killedAt = Date.now();
        const removed = await recorder.waitFor((e) => e.type === "removed", 8_000);
        expect(removed.instance?.instanceId).toBe("child-1");
        expect(Date.now() - killedAt).toBeLessThanOrEqual(1_500 + 3_000);
        expect(await registry.resolve(service)).toEqual([]);
      } finally {
        await killHard(child);
        await watch.close();
        await registry.close();
      }
    });
  });
});
