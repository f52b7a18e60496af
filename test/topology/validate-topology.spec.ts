import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Code } from "../../src/index.js";
import { loadTopology, validateTopology, type TopologyConfig } from "../../src/topology/index.js";
import { cart, inventory } from "./fixtures/memory-shop.js";

const good = (): Record<string, unknown> => ({
  name: "shop",
  services: { inventory: { definition: inventory }, cart: { definition: cart } },
  groups: {
    stock: { services: ["inventory"], listen: { native: "0.0.0.0:50052" }, advertise: "10.0.0.5" },
    front: { services: ["cart"], http: { listen: "0.0.0.0:8080" } },
  },
  registry: "nats://127.0.0.1:4222",
});

function edit(change: (t: Record<string, any>) => void): Record<string, unknown> {
  const t = good() as Record<string, any>;
  change(t);
  return t;
}

const bad: Array<[string, Record<string, unknown> | unknown, RegExp]> = [
  ["not an object", [], /invalid topology: must be an object/],
  ["unknown field", edit((t) => (t.registy = "nats://x")), /registy: is not a known field/],
  ["bad name", edit((t) => (t.name = "Shop!")), /name: "Shop!" must match/],
  ["no services", edit((t) => (t.services = {})), /services: needs at least one service/],
  ["unknown service in a group", edit((t) => t.groups.front.services.push("carts")), /groups\.front\.services\[1\]: unknown service "carts" \(known: inventory, cart\)/],
  ["service listed twice", edit((t) => t.groups.stock.services.push("inventory")), /groups\.stock\.services\[1\]: "inventory" is listed twice/],
  ["unplaced service", edit((t) => (t.groups.front.services = [])), /services\.cart: runs in no group/],
  ["listen without a port", edit((t) => (t.groups.stock.listen.native = "0.0.0.0")), /groups\.stock\.listen\.native: "0\.0\.0\.0" needs a port/],
  ["listen on an unknown transport", edit((t) => (t.groups.stock.listen.http2 = "0.0.0.0:1")), /groups\.stock\.listen\.http2: is not a known field/],
  ["listen with a scheme", edit((t) => (t.groups.stock.listen.native = "native://0.0.0.0:1")), /groups\.stock\.listen\.native: .* must be HOST:PORT/],
  ["advertise a wildcard", edit((t) => (t.groups.stock.advertise = "0.0.0.0")), /groups\.stock\.advertise: "0\.0\.0\.0" is a wildcard/],
  ["advertise one host with a port", edit((t) => (t.groups.stock.advertise = "10.0.0.5:1")), /one host for every transport takes no port/],
  ["port out of range", edit((t) => (t.groups.front.http.listen = "0.0.0.0:70000")), /groups\.front\.http\.listen: .* must be HOST:PORT/],
  ["several groups on memory:", edit((t) => delete t.registry), /registry: several process groups need a shared registry/],
  ["replicas 0", edit((t) => (t.groups.stock.replicas = 0)), /groups\.stock\.replicas: must be an integer from 1 to 1000, got 0/],
  ["bad service config", edit((t) => (t.serviceConfig = { methodConfig: [{ name: [{}], timeoutMs: -1 }] })), /invalid topology: serviceConfig: /],
  ["bad policy", edit((t) => (t.security = { policy: { rules: [{ name: [{}], scopes: "x" }] } })), /security\.policy: .*scopes/],
  ["jwt without issuer", edit((t) => (t.security = { jwt: { jwksUrl: "https://idp/jwks.json", audience: "shop" } })), /security\.jwt\.issuer: must be a non-empty string/],
  ["no definition or module", edit((t) => (t.services.cart = {})), /services\.cart: needs a definition, or a module/],
  ["bad definition", edit((t) => (t.services.cart = { definition: { provides: [] } })), /services\.cart\.definition: must be a service definition/],
  ["tls without a CA", edit((t) => (t.security = { tls: { certFile: "a.pem", keyFile: "a.key" } })), /security\.tls\.caFile: must be a non-empty string/],
  ["a group's tls with an unknown field", edit((t) => (t.groups.stock.tls = { certFile: "a", keyFile: "b", caFile: "c" })), /groups\.stock\.tls\.caFile: is not a known field/],
  ["kubernetes without image", edit((t) => (t.kubernetes = { namespace: "shop" })), /kubernetes\.image: must be a non-empty string/],
  ["ttl on a read-only registry", edit((t) => ((t.registry = "dns:"), (t.registrationTtlMs = 3000))), /registrationTtlMs: the dns: registry is read-only/],
];

describe("validateTopology", () => {
  it("accepts a good topology and returns it typed", () => {
    const t: TopologyConfig = validateTopology(good());
    expect(Object.keys(t.groups)).toEqual(["stock", "front"]);
  });

  it.each(bad)("refuses %s with INVALID_ARGUMENT naming the path", (_what, input, message) => {
    const err = (() => {
      try {
        validateTopology(input);
      } catch (e) {
        return e as { code: number; message: string };
      }
      throw new Error("no error");
    })();
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(message);
  });
});

describe("loadTopology", () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-topology-"));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it("reads the shop's YAML configs, with ${VAR} and ${VAR:-default} from the environment", async () => {
    const one = await loadTopology("examples/shop/topology/one-process.yaml", { env: { SHOP_HTTP_PORT: "9090" } });
    expect(Object.keys(one.groups)).toEqual(["shop"]);
    expect(one.groups.shop!.http!.listen).toBe("127.0.0.1:9090");
    expect(one.store).toBe("pglite:");
    expect(one.module).toMatch(/\/examples\/shop\/topology\/shop-services\.ts$/); // relative to the file
    const several = await loadTopology("examples/shop/topology/processes.yaml", { env: {} });
    expect(Object.keys(several.groups)).toEqual(["inventory", "payment", "cart", "order", "gateway"]);
    expect(Object.values(several.groups).flatMap((g) => g.services).sort()).toEqual(["analytics", "cart", "inventory", "notification", "order", "payment"]);
    const multi = await loadTopology("examples/shop/topology/multi-host.yaml", { env: { HOST_IP: "10.0.0.12", NATS_URL: "nats://10.0.0.2:4222", SHOP_STORE: "postgres://db/shop" } });
    expect(multi.groups.checkout!.advertise).toBe("10.0.0.12");
    expect(multi.groups.checkout!.listen).toEqual({ native: "0.0.0.0:50052", grpc: "0.0.0.0:50051" });
  });

  it("names the path of a string that uses an unset variable", async () => {
    await expect(loadTopology("examples/shop/topology/multi-host.yaml", { env: { NATS_URL: "nats://n:4222", SHOP_STORE: "pglite:" } })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: expect.stringMatching(/multi-host\.yaml: groups\.stock\.advertise: uses \$\{HOST_IP\}, which is not set/),
    });
  });

  it("reads JSON, and names the file in syntax and validation errors", async () => {
    const ok = file("t.json", JSON.stringify({ name: "t", module: "./m.ts", services: { a: {} }, groups: { g: { services: ["a"] } } }));
    expect((await loadTopology(ok)).module).toBe(join(dir, "m.ts"));
    await expect(loadTopology(file("bad.json", "{"))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/bad\.json: not valid JSON/) });
    await expect(loadTopology(file("bad.yaml", "name: [unclosed"))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/bad\.yaml: not valid YAML/) });
    await expect(loadTopology(file("g.yaml", "name: t\nservices: {a: {module: ./m.ts}}\ngroups: {g: {services: [b]}}\n"))).rejects.toMatchObject({
      message: expect.stringMatching(/invalid topology .*g\.yaml: groups\.g\.services\[0\]: unknown service "b"/),
    });
    await expect(loadTopology(join(dir, "missing.yaml"))).rejects.toMatchObject({ code: Code.NOT_FOUND });
    await expect(loadTopology(file("t.toml", ""))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });
});
