import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeDnsServer, type FakeDnsServer } from "../../test/support/fake-dns-server.js";
import type { Endpoint, Resolver, ResolverListener } from "../channel/resolver.js";
import { Code } from "../rpc/code.js";
import { getDefaultRegistry, setDefaultRegistry } from "./create-registry.js";
import { createMemoryRegistry } from "./memory-registry.js";
import { createResolver } from "./create-resolver.js";
import { toEndpoints } from "./endpoint-selection.js";
import { uniqueService } from "./testing/registry-contract.js";

/** Records a resolver's updates and errors. */
class Updates implements ResolverListener {
  readonly lists: Array<readonly Endpoint[]> = [];
  readonly errors: Error[] = [];
  onUpdate(endpoints: readonly Endpoint[]): void {
    this.lists.push(endpoints);
  }
  onError(error: Error): void {
    this.errors.push(error);
  }
  urls(i = this.lists.length - 1): string[] {
    return (this.lists[i] ?? []).map((e) => e.url);
  }
}

const both = (port: number) => [
  { transport: "grpc", url: `grpc://127.0.0.1:${port}` },
  { transport: "native", url: `native://127.0.0.1:${port + 1000}` },
];

describe("createResolver()", () => {
  describe("registry:///<service>", () => {
    it("lists each instance's most preferred transport with its weight, then follows adds and removes", async () => {
      const registry = createMemoryRegistry();
      const service = uniqueService("res");
      await registry.register({ service, instanceId: "a", endpoints: both(5001), metadata: { weight: 3, zone: "eu-1" } });
      const resolver = createResolver(`registry:///${service}`, { registry });
      const updates = new Updates();
      resolver.watch(updates);
      await expect.poll(() => updates.lists.length).toBe(1);
      expect(updates.lists[0]).toEqual([{ url: "native://127.0.0.1:6001", instanceId: "a", weight: 3, metadata: { weight: "3", zone: "eu-1" } }]);
      const b = await registry.register({ service, instanceId: "b", endpoints: both(5002) });
      expect(updates.urls()).toEqual(["native://127.0.0.1:6001", "native://127.0.0.1:6002"]);
      expect(updates.lists[1]?.[1]?.weight).toBe(1);
      await b.close();
      expect(updates.urls()).toEqual(["native://127.0.0.1:6001"]);
      await resolver.close();
      await registry.register({ service, instanceId: "c", endpoints: both(5003) });
      expect(updates.lists).toHaveLength(3);
      await registry.close();
    });

    it("keeps only the transports of ?transport=, in its order, and filters on other parameters as metadata", async () => {
      const registry = createMemoryRegistry();
      const service = uniqueService("res");
      await registry.register({ service, instanceId: "a", endpoints: both(5001), metadata: { zone: "eu-1" } });
      await registry.register({ service, instanceId: "b", endpoints: both(5002), metadata: { zone: "us-1" } });
      await registry.register({ service, instanceId: "c", endpoints: [{ transport: "http", url: "http://127.0.0.1:8080" }], metadata: { zone: "eu-1" } });
      const resolver = createResolver(`registry:///${service}?transport=grpc&zone=eu-1`, { registry });
      const updates = new Updates();
      resolver.watch(updates);
      await expect.poll(() => updates.lists.length).toBe(1);
      expect(updates.urls()).toEqual(["grpc://127.0.0.1:5001"]);
      await registry.register({ service, instanceId: "d", endpoints: [{ transport: "http", url: "http://127.0.0.1:8081" }], metadata: { zone: "eu-1" } });
      expect(updates.lists).toHaveLength(1);
      await resolver.close();
      await registry.close();
    });

    it("uses the process-wide default registry when none is given", async () => {
      const registry = createMemoryRegistry();
      setDefaultRegistry(registry);
      try {
        const service = uniqueService("default");
        await registry.register({ service, instanceId: "a", endpoints: both(5001) });
        const resolver = createResolver(`registry:///${service}`);
        const updates = new Updates();
        resolver.watch(updates);
        await expect.poll(() => updates.urls()).toEqual(["native://127.0.0.1:6001"]);
        await resolver.close();
      } finally {
        await registry.close();
      }
      expect(getDefaultRegistry()).toBe(registry);
    });

    it("sends an empty list for an unknown service", async () => {
      const registry = createMemoryRegistry();
      const resolver = createResolver("registry:///shop.v1.Nobody", { registry });
      const updates = new Updates();
      resolver.watch(updates);
      await expect.poll(() => updates.lists.length).toBe(1);
      expect(updates.lists[0]).toEqual([]);
      await resolver.close();
    });
  });

  describe("static:/// and plain URLs", () => {
    it("lists the URLs of a static: target", async () => {
      const resolver = createResolver("static:///grpc://127.0.0.1:5001,grpc://127.0.0.1:5002");
      const updates = new Updates();
      resolver.watch(updates);
      await expect.poll(() => updates.lists.length).toBe(1);
      expect(updates.lists[0]).toEqual([
        { url: "grpc://127.0.0.1:5001", instanceId: "grpc://127.0.0.1:5001", weight: 1, metadata: {} },
        { url: "grpc://127.0.0.1:5002", instanceId: "grpc://127.0.0.1:5002", weight: 1, metadata: {} },
      ]);
      await resolver.close();
    });

    it("gives a transport URL as its only endpoint", async () => {
      const resolver = createResolver("native+unix:///run/inventory.sock");
      const updates = new Updates();
      resolver.watch(updates);
      await expect.poll(() => updates.lists.length).toBe(1);
      expect(updates.urls()).toEqual(["native+unix:///run/inventory.sock"]);
      await resolver.close();
    });
  });

  describe("dns:", () => {
    let dns: FakeDnsServer;
    beforeAll(async () => {
      dns = await startFakeDnsServer({
        a: { "inv.local": ["10.1.0.1", "10.1.0.2"], "pod.inv.local": ["10.1.0.3"] },
        srv: { "_grpc._tcp.inv.local": [{ priority: 1, weight: 2, port: 6000, target: "pod.inv.local" }] },
      });
    });
    afterAll(async () => {
      await dns?.close();
    });

    it("resolves A records of dns://<server>/<host>:<port>", async () => {
      const resolver = createResolver(`dns://${dns.address}/inv.local:50051`);
      const updates = new Updates();
      resolver.watch(updates);
      await expect.poll(() => updates.lists.length).toBe(1);
      expect(updates.urls()).toEqual(["grpc://10.1.0.1:50051", "grpc://10.1.0.2:50051"]);
      await resolver.close();
    });

    it("resolves SRV records with their weights and the ?transport= scheme", async () => {
      const resolver = createResolver(`dns://${dns.address}/_grpc._tcp.inv.local?transport=native`);
      const updates = new Updates();
      resolver.watch(updates);
      await expect.poll(() => updates.lists.length).toBe(1);
      expect(updates.lists[0]).toMatchObject([{ url: "native://10.1.0.3:6000", weight: 2 }]);
      await resolver.close();
    });

    it("reports a DNS failure to onError", async () => {
      dns.failing = true;
      const resolver: Resolver = createResolver(`dns://${dns.address}/inv.local:1`, { dns: { timeoutMs: 300 } });
      const updates = new Updates();
      try {
        resolver.watch(updates);
        await expect.poll(() => updates.errors.length, { timeout: 5_000 }).toBeGreaterThan(0);
      } finally {
        dns.failing = false;
        await resolver.close();
      }
      expect(updates.errors[0]).toMatchObject({ code: Code.UNAVAILABLE });
      expect(updates.lists).toEqual([]);
    });
  });

  describe("bad targets", () => {
    it.each([
      ["not a url", "not a URL"],
      ["registry:///bad/name", "bad service name"],
      ["registry://host/shop.v1.A", "an authority"],
      ["static:///", "an empty list"],
      ["static:///grpc://a:1,nope", "a malformed URL in the list"],
      ["dns:///", "no name"],
      ["dns:///host:99999", "a bad port"],
    ])("raises INVALID_ARGUMENT for %j (%s)", (target) => {
      expect(() => createResolver(target)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    });

    it("raises FAILED_PRECONDITION on watch() after close()", async () => {
      const resolver = createResolver("grpc://127.0.0.1:1");
      await resolver.close();
      expect(() => resolver.watch(new Updates())).toThrow(expect.objectContaining({ code: Code.FAILED_PRECONDITION }));
    });
  });
});

describe("toEndpoints()", () => {
  const instance = (id: string, endpoints: Array<{ transport: string; url: string }>, metadata: Record<string, string> = {}) => ({
    service: "s",
    instanceId: id,
    endpoints,
    metadata,
  });

  it("ranks inproc, native, grpc, then other transports by default", () => {
    const endpoints = toEndpoints([
      instance("a", [{ transport: "grpc", url: "grpc://a" }, { transport: "inproc", url: "inproc://a" }]),
      instance("b", [{ transport: "http", url: "http://b" }]),
    ]);
    expect(endpoints.map((e) => e.url)).toEqual(["inproc://a", "http://b"]);
  });

  it("reads an invalid stored weight as 1 and keeps a URL seen twice once", () => {
    const endpoints = toEndpoints([
      instance("a", [{ transport: "grpc", url: "grpc://x" }], { weight: "-2" }),
      instance("b", [{ transport: "grpc", url: "grpc://x" }], { weight: "5" }),
    ]);
    expect(endpoints).toEqual([{ url: "grpc://x", instanceId: "a", weight: 1, metadata: { weight: "-2" } }]);
  });
});
