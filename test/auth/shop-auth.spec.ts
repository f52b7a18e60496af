/**
 * The shop with `auth`: the development identity provider, public products,
 * carts/checkout/orders/notifications only for their own user over HTTP and
 * gRPC, internal-only methods denied from outside, an external identity
 * provider trusted through its JWKS, CORS and the rate limit.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient } from "../../src/index.js";
import { createGrpcTransport } from "../../src/transport/grpc/index.js";
import { startShop, type Shop } from "../../examples/shop/shop.js";
import { DEV_AUDIENCE, DEV_ISSUER } from "../../examples/shop/shop-auth.js";
import { PaymentService } from "../../examples/shop/gen/shop/v1/payment_pb.js";
import { InventoryService } from "../../examples/shop/gen/shop/v1/inventory_pb.js";
import { CartService } from "../../examples/shop/gen/shop/v1/cart_pb.js";
import { rejection } from "../support/rejection.js";
import { ecKey, publicJwk, signToken } from "./token-lab.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const EXTERNAL_ISSUER = "https://idp.example.test";
const externalKey = ecKey("company-idp");

let shop: Shop;
let jwksServer: http.Server;
let api: string;

beforeAll(async () => {
  jwksServer = http.createServer(async (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [await publicJwk(externalKey)] })));
  await new Promise<void>((r) => jwksServer.listen(0, "127.0.0.1", r));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  shop = await startShop({
    grpcPort: 0,
    httpPort: 0,
    logger: quiet,
    auth: { external: { jwksUrl, issuer: EXTERNAL_ISSUER, audience: "shop-api" } },
    corsOrigins: ["http://localhost:5173"],
    internalTransport: "native",
  });
  api = shop.httpUrl;
});
afterAll(async () => {
  await shop?.close(100);
  await new Promise<void>((r) => jwksServer.close(() => r()));
});

async function token(userId: string): Promise<string> {
  const res = await fetch(`${api}/v1/auth/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId }) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { accessToken: string; tokenType: string; expiresIn: number };
  expect(body.tokenType).toBe("Bearer");
  expect(body.expiresIn).toBe(900);
  return body.accessToken;
}

const call = (path: string, bearer?: string, init: RequestInit = {}) =>
  fetch(`${api}${path}`, { ...init, headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) } });

describe("the shop with auth", () => {
  it("issues tokens whose sub is the user, verifiable with the published JWKS", async () => {
    const t = await token("ann");
    const claims = JSON.parse(Buffer.from(t.split(".")[1], "base64url").toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: "ann", iss: DEV_ISSUER, aud: DEV_AUDIENCE });
    const jwks = (await (await fetch(`${api}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
    const bad = await call("/v1/auth/token", undefined, { method: "POST", body: JSON.stringify({ userId: "../x" }) });
    expect(bad.status).toBe(400);
  });

  it("products are public; carts need a token whose sub is the user", async () => {
    expect((await call("/v1/products")).status).toBe(200);
    const anon = await call("/v1/carts/ann");
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toBe('Bearer realm="ferry"');
    expect((await call("/v1/carts/ann", await token("bob"))).status).toBe(403);
    expect((await call("/v1/carts/ann", await token("ann"))).status).toBe(200);
    expect((await call("/v1/carts/ann", "not.a.token")).status).toBe(401);
  });

  it("checkout, orders and notifications belong to their user", async () => {
    const ann = await token("ann-2");
    const bob = await token("bob-2");
    expect((await call("/v1/carts/ann-2/items", ann, { method: "POST", body: JSON.stringify({ sku: "KB-001", quantity: 1 }) })).status).toBe(200);
    expect((await call("/v1/carts/ann-2/checkout", bob, { method: "POST" })).status).toBe(403);
    const checkout = await call("/v1/carts/ann-2/checkout", ann, { method: "POST" });
    expect(checkout.status).toBe(200);
    const { orderId } = (await checkout.json()) as { orderId: string };
    expect((await call(`/v1/orders/${orderId}`, ann)).status).toBe(200);
    expect((await call(`/v1/orders/${orderId}`, bob)).status).toBe(403);
    expect((await call(`/v1/orders/${orderId}`)).status).toBe(401);
    expect((await call("/v1/users/ann-2/notifications", ann)).status).toBe(200);
    expect((await call("/v1/users/ann-2/notifications", bob)).status).toBe(403);
  });

  it("over gRPC the same rules hold, and internal-only methods are denied from outside", async () => {
    const transport = createGrpcTransport({ baseUrl: shop.grpcUrl });
    try {
      const ann = { metadata: { authorization: `Bearer ${await token("ann")}` } };
      expect((await createClient(InventoryService, transport).listProducts({})).products.length).toBeGreaterThan(0);
      expect((await createClient(CartService, transport).getCart({ userId: "ann" }, ann)).userId).toBe("ann");
      expect((await rejection(createClient(CartService, transport).getCart({ userId: "bob" }, ann))).code).toBe(Code.PERMISSION_DENIED);
      expect((await rejection(createClient(PaymentService, transport).charge({ userId: "ann", amountCents: 1n }, ann))).code).toBe(Code.PERMISSION_DENIED);
      const reserve = await rejection(createClient(InventoryService, transport).reserve({ sku: "KB-001", quantity: 1 }, ann));
      expect(reserve.rawMessage).toBe("/shop.v1.InventoryService/Reserve is not covered by the authorization policy (default deny)");
    } finally {
      await transport.close();
    }
  });

  it("trusts the external identity provider with the same checks and the same sub rule", async () => {
    const ext = await signToken(externalKey, { iss: EXTERNAL_ISSUER, aud: "shop-api", sub: "carol" });
    expect((await call("/v1/carts/carol", ext)).status).toBe(200);
    expect((await call("/v1/carts/ann", ext)).status).toBe(403);
    const wrongAud = await call("/v1/carts/carol", await signToken(externalKey, { iss: EXTERNAL_ISSUER, aud: "other", sub: "carol" }));
    expect(wrongAud.status).toBe(401);
    expect(((await wrongAud.json()) as { message: string }).message).toBe("invalid token: aud: token is not for this audience");
    const unknownIss = await call("/v1/carts/carol", await signToken(externalKey, { iss: "https://evil.test", aud: "shop-api", sub: "carol" }));
    expect(((await unknownIss.json()) as { message: string }).message).toBe("invalid token: iss: unexpected issuer");
  });

  it("answers CORS preflights for the configured origin", async () => {
    const res = await fetch(`${api}/v1/carts/ann`, { method: "OPTIONS", headers: { origin: "http://localhost:5173", "access-control-request-method": "GET", "access-control-request-headers": "authorization" } });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
  });

  it("rate-limits per principal with rateLimitPerSecond", async () => {
    const limited = await startShop({ grpcPort: 0, httpPort: 0, logger: quiet, auth: true, rateLimitPerSecond: 0.2 });
    try {
      const res = await fetch(`${limited.httpUrl}/v1/auth/token`, { method: "POST", body: JSON.stringify({ userId: "dan" }) });
      const { accessToken } = (await res.json()) as { accessToken: string };
      const get = () => fetch(`${limited.httpUrl}/v1/carts/dan`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect((await get()).status).toBe(200);
      const second = await get();
      expect(second.status).toBe(429);
      expect(Number(second.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close(100);
    }
  });
});
