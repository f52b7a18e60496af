/**
 * End-to-end tests of the shop over its HTTP JSON API and its gRPC port,
 * with Ferry's client and with @grpc/grpc-js loaded from the shop's protos.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createGrpcTransport } from "../../src/index.js";
import { rejection } from "../../test/support/rejection.js";
import { CartService } from "./gen/shop/v1/cart_pb.js";
import { InventoryService } from "./gen/shop/v1/inventory_pb.js";
import { OrderService } from "./gen/shop/v1/order_pb.js";
import { startShop, type Shop } from "./shop.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
let userSeq = 0;
const newUser = () => `user${++userSeq}-${Math.random().toString(36).slice(2, 8)}`;

async function http(shop: Shop, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(shop.httpUrl + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function stockOf(shop: Shop, sku: string): Promise<number> {
  const { json } = await http(shop, "GET", "/v1/products");
  return json.products.find((p: { sku: string }) => p.sku === sku).stock;
}

describe.each(["inproc", "native"] as const)("shop over HTTP, services calling each other over %s", (internalTransport) => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, logger: quiet, internalTransport });
  });
  afterAll(() => shop.close(100));

  it("lists the seeded catalog with prices in cents", async () => {
    const { status, json } = await http(shop, "GET", "/v1/products");
    expect(status).toBe(200);
    expect(json.products.length).toBeGreaterThanOrEqual(10);
    expect(json.products[0]).toMatchObject({ sku: "KB-001", priceCents: "8900" });
  });

  it("add item reserves stock; the cart has line totals and a total; remove releases it", async () => {
    const user = newUser();
    const before = await stockOf(shop, "MS-002");
    const added = await http(shop, "POST", `/v1/carts/${user}/items`, { sku: "MS-002", quantity: 3 });
    expect(added.status).toBe(200);
    await http(shop, "POST", `/v1/carts/${user}/items`, { sku: "LP-009", quantity: 1 });
    expect(await stockOf(shop, "MS-002")).toBe(before - 3);
    const cart = await http(shop, "GET", `/v1/carts/${user}`);
    expect(cart.json.lines).toEqual([
      expect.objectContaining({ sku: "MS-002", quantity: 3, unitPriceCents: "2900", lineTotalCents: "8700" }),
      expect.objectContaining({ sku: "LP-009", quantity: 1, lineTotalCents: "3900" }),
    ]);
    expect(cart.json.totalCents).toBe("12600");
    const removed = await http(shop, "DELETE", `/v1/carts/${user}/items/MS-002`);
    expect(removed.status).toBe(200);
    expect(removed.json.totalCents).toBe("3900");
    expect(await stockOf(shop, "MS-002")).toBe(before);
  });

  it("checkout charges the total and places an order that can be fetched", async () => {
    const user = newUser();
    await http(shop, "POST", `/v1/carts/${user}/items`, { sku: "CB-010", quantity: 2 });
    const order = await http(shop, "POST", `/v1/carts/${user}/checkout`);
    expect(order.status).toBe(200);
    expect(order.json).toMatchObject({ userId: user, totalCents: "2400", status: "ORDER_STATUS_PLACED" });
    expect(order.json.paymentId).toMatch(/^pay_/);
    const fetched = await http(shop, "GET", `/v1/orders/${order.json.orderId}`);
    expect(fetched.json.orderId).toBe(order.json.orderId);
    expect((await http(shop, "GET", `/v1/carts/${user}`)).json.lines ?? []).toEqual([]);
  });

  it("out of stock is 409 failed_precondition and takes nothing", async () => {
    const user = newUser();
    const before = await stockOf(shop, "DS-008");
    const res = await http(shop, "POST", `/v1/carts/${user}/items`, { sku: "DS-008", quantity: before + 1 });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({ code: "failed_precondition", message: expect.stringContaining("out of stock") });
    expect(await stockOf(shop, "DS-008")).toBe(before);
  });

  it("unknown SKU is 404 not_found; unknown order is 404", async () => {
    const res = await http(shop, "POST", `/v1/carts/${newUser()}/items`, { sku: "NOPE-1", quantity: 1 });
    expect(res.status).toBe(404);
    expect(res.json.code).toBe("not_found");
    expect((await http(shop, "GET", "/v1/orders/ord_missing")).status).toBe(404);
  });

  it("bad JSON, unknown fields and bad quantities are 400 invalid_argument", async () => {
    const user = newUser();
    const bad = await http(shop, "POST", `/v1/carts/${user}/items`, "{not json");
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe("invalid_argument");
    const proto = await http(shop, "POST", `/v1/carts/${user}/items`, '{"__proto__":{"polluted":true},"sku":"KB-001","quantity":1}');
    expect(proto.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const zero = await http(shop, "POST", `/v1/carts/${user}/items`, { sku: "KB-001", quantity: 0 });
    expect(zero.status).toBe(400);
  });

  it("empty cart checkout is 409; unknown route is 404; wrong verb is 405", async () => {
    expect((await http(shop, "POST", `/v1/carts/${newUser()}/checkout`)).status).toBe(409);
    expect((await http(shop, "GET", "/v1/nothing")).status).toBe(404);
    expect((await http(shop, "PUT", "/v1/products")).status).toBe(405);
  });
});

describe.each(["inproc", "native"] as const)("shop payment failure, %s", (internalTransport) => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, paymentFailureRate: 1, logger: quiet, internalTransport });
  });
  afterAll(() => shop.close(100));

  it("checkout fails with 503 and a clear message, and the reserved stock is released", async () => {
    const user = newUser();
    const before = await stockOf(shop, "HS-004");
    await http(shop, "POST", `/v1/carts/${user}/items`, { sku: "HS-004", quantity: 2 });
    expect(await stockOf(shop, "HS-004")).toBe(before - 2);
    const res = await http(shop, "POST", `/v1/carts/${user}/checkout`);
    expect(res.status).toBe(503);
    expect(res.json.code).toBe("unavailable");
    expect(res.json.message).toMatch(/payment failed: .*stock was released/);
    expect(await stockOf(shop, "HS-004")).toBe(before);
    expect((await http(shop, "GET", `/v1/carts/${user}`)).json.lines ?? []).toEqual([]);
  });
});

describe("shop over gRPC", () => {
  let shop: Shop;
  let transport: ReturnType<typeof createGrpcTransport>;
  const clients: grpc.Client[] = [];
  beforeAll(async () => {
    shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, logger: quiet });
    transport = createGrpcTransport({ baseUrl: shop.grpcUrl });
  });
  afterEach(() => clients.splice(0).forEach((c) => c.close()));
  afterAll(async () => {
    await transport.close();
    await shop.close(100);
  });

  it("a Ferry client runs the whole flow, with typed errors", async () => {
    const cart = createClient(CartService, transport);
    const orders = createClient(OrderService, transport);
    const inventory = createClient(InventoryService, transport);
    const user = newUser();
    await cart.addItem({ userId: user, sku: "SS-011", quantity: 1 });
    const order = await orders.checkout({ userId: user });
    expect(order.totalCents).toBe(9900n);
    expect((await orders.getOrder({ orderId: order.orderId })).paymentId).toBe(order.paymentId);
    expect((await rejection(inventory.reserve({ sku: "CH-007", quantity: 99 }))).code).toBe(Code.FAILED_PRECONDITION);
    expect((await rejection(inventory.getProduct({ sku: "??" }))).code).toBe(Code.NOT_FOUND);
  });

  it("an @grpc/grpc-js client loaded with the shop's protos calls every shop method", async () => {
    const root = fileURLToPath(new URL(".", import.meta.url));
    const def = protoLoader.loadSync(["shop/v1/inventory.proto", "shop/v1/payment.proto", "shop/v1/cart.proto", "shop/v1/order.proto"], {
      includeDirs: [`${root}proto`, `${root}../../proto`],
      longs: String,
      defaults: true,
    });
    const pkg = (grpc.loadPackageDefinition(def) as any).shop.v1;
    const address = shop.grpcUrl.replace("grpc://", "");
    const make = (ctor: any) => {
      const c = new ctor(address, grpc.credentials.createInsecure());
      clients.push(c);
      return (method: string, req: object) =>
        new Promise<any>((resolve, reject) => c[method](req, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))));
    };
    const inv = make(pkg.InventoryService);
    const pay = make(pkg.PaymentService);
    const cart = make(pkg.CartService);
    const ord = make(pkg.OrderService);
    const user = newUser();
    expect((await inv("ListProducts", {})).products.length).toBeGreaterThan(0);
    expect((await inv("GetProduct", { sku: "KB-001" })).name).toBe("Mechanical keyboard");
    await inv("Reserve", { sku: "LP-009", quantity: 1 });
    await inv("Release", { sku: "LP-009", quantity: 1 });
    const charge = await pay("Charge", { userId: user, amountCents: "500" });
    expect((await pay("Refund", { paymentId: charge.paymentId })).amountCents).toBe("500");
    await cart("AddItem", { userId: user, sku: "WC-005", quantity: 1 });
    await cart("AddItem", { userId: user, sku: "MP-012", quantity: 1 });
    await cart("RemoveItem", { userId: user, sku: "MP-012" });
    expect((await cart("GetCart", { userId: user })).totalCents).toBe("5900");
    const order = await ord("Checkout", { userId: user });
    expect((await ord("GetOrder", { orderId: order.orderId })).totalCents).toBe("5900");
    await cart("AddItem", { userId: user, sku: "KB-001", quantity: 1 });
    expect((await cart("ClearCart", { userId: user, releaseStock: true })).lines.length).toBe(1);
    const err = await ord("GetOrder", { orderId: "missing" }).catch((e: grpc.ServiceError) => e);
    expect(err.code).toBe(grpc.status.NOT_FOUND);
  });
});

describe("shop start-up", () => {
  it("a port in use is reported as EADDRINUSE naming the port", async () => {
    const first = await startShop({ auth: false, grpcPort: 0, httpPort: 0, logger: quiet });
    try {
      const port = Number(new URL(first.httpUrl).port);
      const err = await startShop({ auth: false, grpcPort: 0, httpPort: port, logger: quiet }).catch((e: NodeJS.ErrnoException) => e);
      expect((err as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
    } finally {
      await first.close(100);
    }
  });
});
