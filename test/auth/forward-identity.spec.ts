/**
 * Identity downstream: a handler's calls carry the end user's token only
 * when the client is configured to forward it; the next service verifies it
 * again and sees the same subject.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createInProcessTransport, createServer, type Server } from "../../src/index.js";
import { createAuthInterceptor, createForwardAuthorizationInterceptor, createJwtVerifier, principalOf } from "../../src/auth/index.js";
import { CartService } from "../../examples/shop/gen/shop/v1/cart_pb.js";
import { InventoryService } from "../../examples/shop/gen/shop/v1/inventory_pb.js";
import { rejection } from "../support/rejection.js";
import { ecKey, publicJwk, signToken } from "./token-lab.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const key = ecKey("fwd");
let downstream: Server;
let upstream: Server;

beforeAll(async () => {
  const auth = createAuthInterceptor({ jwt: createJwtVerifier({ jwks: { keys: [await publicJwk(key)] } }) });
  downstream = createServer({ logger: quiet, interceptors: [auth] }).service(InventoryService, {
    getProduct: (req, ctx) => ({ sku: req.sku, name: `for ${principalOf(ctx)?.subject}` }),
  });
  const forwarding = createClient(InventoryService, createInProcessTransport(downstream), { interceptors: [createForwardAuthorizationInterceptor()] });
  const plain = createClient(InventoryService, createInProcessTransport(downstream));
  upstream = createServer({ logger: quiet, interceptors: [auth] }).service(CartService, {
    getCart: async (req) => {
      const client = req.userId === "forward" ? forwarding : plain;
      const product = await client.getProduct({ sku: "KB-001" });
      return { userId: req.userId, lines: [{ sku: product.name }] };
    },
  });
});
afterAll(async () => {
  await upstream.shutdown(100);
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
