/**
 * Identity downstream: a handler's calls carry the end user's token only
 * when the client is configured to forward it; the next service verifies it
 * again and sees the same subject.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createInProcessTransport, createServer, type Server } from "../../src/index.js";
import { createAuthInterceptor, createForwardAuthorizationInterceptor, createJwtVerifier, createSignedIdentityInterceptor, principalOf } from "../../src/auth/index.js";
import { CartService } from "../../examples/shop/gen/shop/v1/cart_pb.js";
import { InventoryService } from "../../examples/shop/gen/shop/v1/inventory_pb.js";
import { rejection } from "../support/rejection.js";
import { ecKey, publicJwk, signToken } from "./token-lab.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const key = ecKey("fwd");
const internalKey = ecKey("internal");
let downstream: Server;
let internalOnly: Server;
let upstream: Server;

beforeAll(async () => {
  const auth = createAuthInterceptor({ jwt: createJwtVerifier({ jwks: { keys: [await publicJwk(key)] } }) });
  downstream = createServer({ logger: quiet, interceptors: [auth] }).service(InventoryService, {
    getProduct: (req, ctx) => ({ sku: req.sku, name: `for ${principalOf(ctx)?.subject}` }),
  });
  // Trusts only tokens signed by the upstream service's internal key.
  internalOnly = createServer({
    logger: quiet,
    interceptors: [createAuthInterceptor({ jwt: createJwtVerifier({ jwks: { keys: [await publicJwk(internalKey)] }, issuer: "spiffe://test/upstream", audience: "internal" }) })],
  }).service(InventoryService, {
    getProduct: (req, ctx) => {
      const p = principalOf(ctx);
      return { sku: req.sku, name: `for ${p?.subject} by ${(p?.claims.act as { sub?: string } | undefined)?.sub} scope ${[...(p?.scopes ?? [])].join(",")}` };
    },
  });
  const signing = createClient(InventoryService, createInProcessTransport(internalOnly), {
    interceptors: [createSignedIdentityInterceptor({ privateKey: internalKey.privateKey, kid: "internal", issuer: "spiffe://test/upstream", audience: "internal" })],
  });
  const forwarding = createClient(InventoryService, createInProcessTransport(downstream), { interceptors: [createForwardAuthorizationInterceptor()] });
  const plain = createClient(InventoryService, createInProcessTransport(downstream));
  upstream = createServer({ logger: quiet, interceptors: [auth] }).service(CartService, {
    getCart: async (req) => {
      const client = req.userId === "forward" ? forwarding : req.userId === "signed" ? signing : plain;
      const product = await client.getProduct({ sku: "KB-001" });
      return { userId: req.userId, lines: [{ sku: product.name }] };
    },
  });
});
afterAll(async () => {
  await upstream.shutdown(100);
  await internalOnly.shutdown(100);
  await downstream.shutdown(100);
});

describe("createForwardAuthorizationInterceptor", () => {
  it("forwards the caller's token when configured, and only then", async () => {
    const cart = createClient(CartService, createInProcessTransport(upstream));
    const metadata = { authorization: `Bearer ${await signToken(key, { sub: "ann" })}` };
    const forwarded = await cart.getCart({ userId: "forward" }, { metadata });
    expect(forwarded.lines[0].sku).toBe("for ann");
    const err = await rejection(cart.getCart({ userId: "plain" }, { metadata }));
    expect(err.code).toBe(Code.UNAUTHENTICATED);
  });
});

describe("createSignedIdentityInterceptor", () => {
  it("replaces the user's token by an internal one with the same sub and scope and an act claim", async () => {
    const cart = createClient(CartService, createInProcessTransport(upstream));
    const userToken = await signToken(key, { sub: "ann", scope: "cart:read" });
    const signed = await cart.getCart({ userId: "signed" }, { metadata: { authorization: `Bearer ${userToken}` } });
    expect(signed.lines[0].sku).toBe("for ann by spiffe://test/upstream scope cart:read");
    // The user's own token is not trusted by the internal service.
    const direct = await rejection(createClient(InventoryService, createInProcessTransport(internalOnly)).getProduct({ sku: "x" }, { metadata: { authorization: `Bearer ${userToken}` } }));
    expect(direct.code).toBe(Code.UNAUTHENTICATED);
  });
});
