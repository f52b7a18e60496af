/**
 * Client TLS credentials through channels: every subchannel created from
 * resolved `natives://` and `grpcs://` endpoints presents the channel's
 * client certificate, the server's auth interceptor turns it into a service
 * identity and its policy decides; cleartext endpoints are refused; a server
 * with the wrong SPIFFE ID is refused by `checkServerSpiffeId`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeClient, Code, createChannel, createClient, createServer, FerryError, type Server } from "../../src/index.js";
import { checkServerSpiffeId, createAuthInterceptor, principalOf, type AuthorizationPolicy } from "../../src/auth/index.js";
import { createMemoryRegistry, createResolver } from "../../src/registry/index.js";
import { createGrpcServerTransport, createThrowawayCa, type PemKeyPair } from "../../src/transport/grpc/index.js";
import { createNativeServerTransport } from "../../src/transport/native/index.js";
import { InventoryService } from "../../examples/shop/gen/shop/v1/inventory_pb.js";

const CART = "spiffe://ferry.test/cart";
const GATEWAY = "spiffe://ferry.test/gateway";
const INVENTORY = "spiffe://ferry.test/inventory";
const policy: AuthorizationPolicy = {
  rules: [
    { name: [{ service: "shop.v1.InventoryService", method: "GetProduct" }], services: [GATEWAY, CART] },
    { name: [{ service: "shop.v1.InventoryService", method: "Reserve" }], services: [CART] },
  ],
};

async function codeOf(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
    return { code: Code.OK, message: "" };
  } catch (err) {
    const e = FerryError.from(err);
    return { code: e.code, message: e.message };
  }
}

describe("client TLS credentials on channels (mTLS to endpoints found in a registry)", () => {
  const ca = createThrowawayCa();
  const otherCa = createThrowawayCa({ commonName: "someone else's CA" });
  const leaf = (id: string, from = ca): PemKeyPair => from.issue({ commonName: id.split("/").pop(), altNames: [id, "127.0.0.1", "localhost"] });
  const serverCert = leaf(INVENTORY);
  const cart = leaf(CART);
  const gateway = leaf(GATEWAY);
  const forgedCart = leaf(CART, otherCa);
  const registry = createMemoryRegistry();
  let server: Server;
  let nativeUrl = "";
  let grpcUrl = "";
  let cleartextUrl = "";

  beforeAll(async () => {
    server = createServer({ interceptors: [createAuthInterceptor({ policy })] });
    server.service(InventoryService, {
      getProduct: (req, ctx) => ({ sku: req.sku, name: principalOf(ctx)?.service?.id ?? "?" }),
      reserve: () => ({}),
    });
    const tls = { ...serverCert, ca: ca.cert, requestCert: true, rejectUnauthorized: false };
    nativeUrl = (await server.listen(createNativeServerTransport({ host: "127.0.0.1", port: 0, tls }))).url;
    grpcUrl = (await server.listen(createGrpcServerTransport({ host: "127.0.0.1", port: 0, tls }))).url;
    cleartextUrl = (await server.listen("native://127.0.0.1:0")).url;
    await registry.register({ service: "shop.v1.InventoryService", instanceId: "native", endpoints: [{ transport: "native", url: nativeUrl }], metadata: {} });
    await registry.register({ service: "shop.v1.InventoryService", instanceId: "grpc", endpoints: [{ transport: "grpc", url: grpcUrl }], metadata: {} });
  });

  afterAll(async () => {
    await server.shutdown(0);
    await registry.close();
  });

  const channelOf = (tls: object, transport: "native" | "grpc") =>
    createChannel({ resolver: createResolver(`registry:///shop.v1.InventoryService?transport=${transport}`, { registry }), tls, waitForReadyTimeoutMs: 3_000 });

  it("every resolved natives:// and grpcs:// endpoint gets the client certificate: the server sees the caller's SPIFFE ID", async () => {
    expect(nativeUrl).toMatch(/^natives:\/\//);
    expect(grpcUrl).toMatch(/^grpcs:\/\//);
    for (const transport of ["native", "grpc"] as const) {
      const channel = channelOf({ ca: ca.cert, ...cart }, transport);
      const client = createClient(InventoryService, channel);
      expect((await client.getProduct({ sku: "KB-001" })).name).toBe(CART);
      expect(await codeOf(client.reserve({ sku: "KB-001", quantity: 1 }))).toEqual({ code: Code.OK, message: "" });
      await channel.close();
    }
  });

  it("the policy decides per method: the gateway may read but not reserve (PERMISSION_DENIED)", async () => {
    for (const transport of ["native", "grpc"] as const) {
      const channel = channelOf({ ca: ca.cert, ...gateway }, transport);
      const client = createClient(InventoryService, channel);
      expect((await client.getProduct({ sku: "KB-001" })).name).toBe(GATEWAY);
      const denied = await codeOf(client.reserve({ sku: "KB-001", quantity: 1 }));
      expect(denied.code).toBe(Code.PERMISSION_DENIED);
      expect(denied.message).toContain(`service ${GATEWAY} may not call /shop.v1.InventoryService/Reserve`);
      await channel.close();
    }
  });

  it("no client certificate, or one from another CA, is UNAUTHENTICATED", async () => {
    for (const transport of ["native", "grpc"] as const) {
      for (const tls of [{ ca: ca.cert }, { ca: ca.cert, ...forgedCart }]) {
        const channel = channelOf(tls, transport);
        const refused = await codeOf(createClient(InventoryService, channel).getProduct({ sku: "KB-001" }));
        expect(refused.code, `${transport} ${"cert" in tls ? "foreign CA" : "no certificate"}`).toBe(Code.UNAUTHENTICATED);
        expect(refused.message).toContain("needs credentials");
        expect(refused.message.includes("did not verify against this server's CA"), "says why a certificate did not count").toBe("cert" in tls);
        await channel.close();
      }
    }
  });

  it("createClient(Service, target, { tls }) passes the credentials to a natives:// target and to every endpoint of a static: target", async () => {
    const direct = createClient(InventoryService, nativeUrl, { tls: { ca: ca.cert, ...cart } });
    expect((await direct.getProduct({ sku: "A" })).name).toBe(CART);
    await closeClient(direct);
    const listed = createClient(InventoryService, `static:///${nativeUrl},${grpcUrl}`, { tls: { ca: ca.cert, ...cart } });
    for (let i = 0; i < 4; i++) expect((await listed.getProduct({ sku: "A" })).name).toBe(CART);
    await closeClient(listed);
  });

  it("a cleartext endpoint is refused when the channel has credentials (a registry entry cannot downgrade it)", async () => {
    const channel = createChannel({ resolver: createResolver(`static:///${cleartextUrl}`), tls: { ca: ca.cert, ...cart }, waitForReady: false });
    const refused = await codeOf(createClient(InventoryService, channel).getProduct({ sku: "A" }));
    expect(refused.code).toBe(Code.UNAVAILABLE);
    expect(refused.message).toContain("is cleartext but this client has TLS credentials");
    expect(refused.message).not.toContain("BEGIN");
    expect(channel.subchannels.map((s) => s.state)).toEqual(["TRANSIENT_FAILURE"]);
    await channel.close();
  });

  it("checkServerSpiffeId refuses a server whose certificate names another service", async () => {
    const expectOrder = { ca: ca.cert, ...cart, checkServerIdentity: checkServerSpiffeId(["spiffe://ferry.test/order"]) };
    const refused = await codeOf(createClient(InventoryService, nativeUrl, { tls: expectOrder }).getProduct({ sku: "A" }, { timeoutMs: 3_000 }));
    expect(refused.code).toBe(Code.UNAVAILABLE);
    expect(refused.message).toContain(`server identity ${INVENTORY} is not spiffe://ferry.test/order`);
    const expectInventory = { ca: ca.cert, ...cart, checkServerIdentity: checkServerSpiffeId([INVENTORY]) };
    const grpc = createClient(InventoryService, grpcUrl, { tls: expectInventory });
    expect((await grpc.getProduct({ sku: "A" })).name).toBe(CART);
    await closeClient(grpc);
    expect(() => checkServerSpiffeId([])).toThrow(/needs URIs/);
  });
});
