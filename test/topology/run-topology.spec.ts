import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../examples/shop/gen/shop/v1/inventory_pb.js";
import { Code, createClient, createRegistry, createServer } from "../../src/index.js";
import { createNativeServerTransport } from "../../src/transport/native/index.js";
import { createThrowawayCa } from "../../src/transport/grpc/index.js";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTopology, routableHost, runTopology, type RunningGroup, type TopologyConfig } from "../../src/topology/index.js";
import { checkService } from "../support/services.js";
import { AUDIENCE, ecKey, ISSUER, publicJwk, signToken } from "../auth/token-lab.js";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cart, inventory } from "./fixtures/memory-shop.js";

const nats = await checkService("NATS", "127.0.0.1", 4222);
const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("listen and advertised addresses", () => {
  it("a server bound to every interface advertises another host; clients use the advertised URL", async () => {
    const server = createServer({ logger: quiet });
    const address = await server.listen(createNativeServerTransport({ host: "0.0.0.0", port: 0, advertiseHost: "127.0.0.1" }));
    expect(address.listenUrl).toMatch(/^native:\/\/0\.0\.0\.0:\d+$/);
    expect(address.url).toBe(address.listenUrl!.replace("0.0.0.0", "127.0.0.1"));
    const health = await import("../../src/gen/grpc/health/v1/health_pb.js");
    expect((await createClient(health.Health, address.url).check({ service: "" })).status).toBe(1); // SERVING
    await server.shutdown(0);
  });

  it("a wildcard bind with nothing advertised advertises the machine's routable address; a port can be advertised too", async () => {
    const server = createServer({ logger: quiet });
    const address = await server.listen(createNativeServerTransport({ host: "::", port: 0, advertisePort: 443 }));
    expect(address.url).toBe(`native://${routableHost().includes(":") ? `[${routableHost()}]` : routableHost()}:443`);
    await server.shutdown(0);
  });

  it("refuses a wildcard or malformed advertised host, and a registry refuses a wildcard endpoint", async () => {
    expect(() => createNativeServerTransport({ advertiseHost: "0.0.0.0" })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    expect(() => createNativeServerTransport({ advertiseHost: "10.0.0.5:80" })).toThrow(/advertiseHost "10.0.0.5:80" must be a host name or IP address/);
    expect(() => createNativeServerTransport({ advertisePort: 0 })).toThrow(/advertisePort 0 must be an integer from 1 to 65535/);
    const registry = await createRegistry("memory:");
    await expect(registry.register({ service: "a.B", endpoints: [{ transport: "native", url: "native://0.0.0.0:5000" }] })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: expect.stringMatching(/is a listen address \(every interface\), not one clients can reach/),
    });
    await registry.close();
  });
});

describe("runTopology", () => {
  it("runs a one-group topology from YAML: services call each other in-process, no RPC listener, the HTTP API in front", async () => {
    const group = await runTopology(await loadTopology("test/topology/fixtures/memory-shop.yaml", { env: {} }), { logger: quiet });
    try {
      expect(group.addresses).toEqual([]);
      expect(group.services).toEqual(["inventory", "cart"]);
      const added = await post(`${group.httpUrl!}/v1/carts/ann/items`, { sku: "KB-001", quantity: 2 });
      expect(added.status).toBe(200);
      expect(added.body.totalCents).toBe("17800");
      const stock = await fetch(`${group.httpUrl!}/v1/products/KB-001`).then((r) => r.json() as Promise<{ stock: number }>);
      expect(stock.stock).toBe(23); // the cart reserved 2 through the in-process inventory
    } finally {
      await group.close();
    }
  });

  it("refuses an unknown group, a group name missing among several, and a module without the export", async () => {
    const two = { name: "t", services: { inventory: { definition: inventory }, cart: { definition: cart } }, groups: { a: { services: ["inventory"] }, b: { services: ["cart"] } }, registry: "static:" } satisfies TopologyConfig;
    await expect(runTopology(two, { logger: quiet })).rejects.toThrow(/has 2 process groups: choose one \(a, b\)/);
    await expect(runTopology(two, { group: "c", logger: quiet })).rejects.toThrow(/has no process group "c"/);
    const config = { name: "t", module: `${process.cwd()}/test/topology/fixtures/memory-shop.ts`, services: { broken: { export: "notADefinition" } }, groups: { g: { services: ["broken"] } } };
    await expect(runTopology(config, { logger: quiet })).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/services\.broken: .* has no service definition named "notADefinition"/) });
  });

  it("enforces the topology's security (JWT, policy) on the HTTP API; the group's services call each other in-process unchecked", async () => {
    const key = ecKey("topology");
    const jwks = JSON.stringify({ keys: [await publicJwk(key)] });
    const idp = createHttpServer((_req, res) => res.setHeader("content-type", "application/json").end(jwks));
    await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
    const policy = {
      rules: [
        { name: [{ service: "shop.v1.InventoryService", method: "ListProducts" }, { service: "shop.v1.InventoryService", method: "GetProduct" }], public: true },
        { name: [{ service: "shop.v1.InventoryService" }], authenticated: true },
        { name: [{ service: "shop.v1.CartService" }], scopes: ["cart"] },
      ],
    };
    const jwt = { jwksUrl: `http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks.json`, issuer: ISSUER, audience: AUDIENCE };
    const config: TopologyConfig = {
      name: "secure",
      services: { inventory: { definition: inventory }, cart: { definition: cart } },
      groups: { all: { services: ["inventory", "cart"], http: { listen: "127.0.0.1:0" } } },
      security: { jwt, policy },
    };
    const group = await runTopology(config, { logger: quiet, telemetry: false });
    try {
      const api = group.httpUrl!;
      expect((await fetch(`${api}/v1/products/KB-001`)).status).toBe(200); // public
      expect((await post(`${api}/v1/carts/ann/items`, { sku: "KB-001", quantity: 1 })).status).toBe(401);
      const withScope = async (scope: string) => {
        const res = await fetch(`${api}/v1/carts/ann/items`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${await signToken(key, { scope })}` },
          body: JSON.stringify({ sku: "KB-001", quantity: 1 }),
        });
        return res.status;
      };
      expect(await withScope("orders")).toBe(403);
      // The cart's Reserve call to inventory stays in-process, on the group's unchecked internal server.
      expect(await withScope("cart")).toBe(200);
    } finally {
      await group.close();
      idp.close();
    }
  });

  describe.skipIf(nats.skip)("two groups through a NATS KV registry", () => {
    const bucket = `ferry_topology_${randomBytes(4).toString("hex")}`;
    const registryUrl = `nats://127.0.0.1:4222?bucket=${bucket}&bucketMaxAgeMs=60000`;
    const config: TopologyConfig = {
      name: "split",
      services: { inventory: { definition: inventory }, cart: { definition: cart } },
      groups: {
        stock: { services: ["inventory"], listen: { native: "0.0.0.0:0", grpc: "0.0.0.0:0" }, advertise: "127.0.0.1" },
        front: { services: ["cart"], http: { listen: "127.0.0.1:0" } },
      },
      registry: registryUrl,
      registrationTtlMs: 3_000,
    };
    const running: RunningGroup[] = [];

    afterAll(async () => {
      await Promise.all(running.map((g) => g.close(0)));
      const nc = await connect({ servers: "127.0.0.1:4222" });
      await (await new Kvm(nc).open(bucket)).destroy().catch(() => undefined);
      await nc.close();
    });

    it("registers the advertised addresses, calls across groups, and deregisters on close", async () => {
      const stock = await runTopology(config, { group: "stock", logger: quiet, telemetry: false });
      running.push(stock);
      const front = await runTopology(config, { group: "front", logger: quiet, telemetry: false });
      running.push(front);
      expect(stock.addresses.map((a) => a.listenUrl)).toEqual([expect.stringMatching(/^native:\/\/0\.0\.0\.0:\d+$/), expect.stringMatching(/^grpc:\/\/0\.0\.0\.0:\d+$/)]);
      const registry = await createRegistry(registryUrl);
      try {
        const [instance] = await registry.resolve(InventoryService.typeName);
        expect(instance!.endpoints).toEqual(stock.addresses.map((a) => ({ transport: a.transport, url: a.url })));
        expect(instance!.endpoints.map((e) => e.url)).toEqual([expect.stringMatching(/^native:\/\/127\.0\.0\.1:\d+$/), expect.stringMatching(/^grpc:\/\/127\.0\.0\.1:\d+$/)]);
        expect(instance!.metadata).toMatchObject({ topology: "split", group: "stock" });
        // The cart (group front) reserves stock from the inventory (group stock) over the native transport.
        const added = await post(`${front.httpUrl!}/v1/carts/bob/items`, { sku: "MS-002", quantity: 1 });
        expect(added.status).toBe(200);
        // front has no inventory of its own: its HTTP API reaches stock's through the registry too.
        const product = await fetch(`${front.httpUrl!}/v1/products/MS-002`).then((r) => r.json() as Promise<{ stock: number }>);
        expect(product.stock).toBe(39);
        await stock.close(1_000);
        expect(await registry.resolve(InventoryService.typeName)).toEqual([]);
      } finally {
        await registry.close();
      }
    }, 30_000);

    it("with security.tls: mTLS between groups, callers identified by their group's SPIFFE ID, others refused", async () => {
      const dir = mkdtempSync(join(tmpdir(), "ferry-topology-tls-"));
      const ca = createThrowawayCa({ commonName: "topology test CA" });
      writeFileSync(join(dir, "ca.pem"), ca.cert);
      for (const g of ["stock", "front", "intruder"]) {
        const leaf = ca.issue({ commonName: g, altNames: [`spiffe://t.local/${g}`, "127.0.0.1"] });
        writeFileSync(join(dir, `${g}.pem`), leaf.cert);
        writeFileSync(join(dir, `${g}.key`), leaf.key);
      }
      const files = (g: string) => ({ certFile: join(dir, `${g}.pem`), keyFile: join(dir, `${g}.key`) });
      const policy = {
        rules: [
          { name: [{ service: "shop.v1.InventoryService" }], services: ["spiffe://t.local/front"] },
          { name: [{ service: "shop.v1.CartService" }], public: true },
        ],
      };
      const secure: TopologyConfig = {
        ...config,
        name: "mtls",
        groups: { stock: { ...config.groups.stock!, tls: files("stock") }, front: { ...config.groups.front!, listen: { native: "127.0.0.1:0" }, tls: files("front") } },
        security: { tls: { caFile: join(dir, "ca.pem"), ...files("front"), spiffeTrustDomain: "t.local" }, policy },
      };
      const stock = await runTopology(secure, { group: "stock", logger: quiet, telemetry: false });
      running.push(stock);
      const front = await runTopology(secure, { group: "front", logger: quiet, telemetry: false });
      running.push(front);
      expect(stock.addresses.map((a) => a.url)).toEqual([expect.stringMatching(/^natives:\/\/127\.0\.0\.1:/), expect.stringMatching(/^grpcs:\/\/127\.0\.0\.1:/)]);
      // The cart (front) reserves stock over mTLS as spiffe://t.local/front, which the policy allows.
      expect((await post(`${front.httpUrl!}/v1/carts/cy/items`, { sku: "MS-002", quantity: 1 })).status).toBe(200);
      // Another certificate of the same CA is refused by the policy, and none at all is unauthenticated.
      const intruder = { ca: ca.cert, cert: readFile(join(dir, "intruder.pem")), key: readFile(join(dir, "intruder.key")) };
      const url = stock.addresses[0]!.url;
      await expect(createClient(InventoryService, url, { tls: intruder }).getProduct({ sku: "MS-002" })).rejects.toMatchObject({ code: Code.PERMISSION_DENIED });
      await expect(createClient(InventoryService, url, { tls: { ca: ca.cert } }).getProduct({ sku: "MS-002" })).rejects.toMatchObject({ code: Code.UNAUTHENTICATED });
    }, 30_000);
  });
});

function readFile(path: string): string {
  return readFileSync(path, "utf8");
}
