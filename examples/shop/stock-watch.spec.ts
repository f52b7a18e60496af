/**
 * The shop's web surface: InventoryService.WatchStock over gRPC (Ferry's
 * client), Connect and gRPC-Web (connect-node) and as server-sent events at
 * the gateway; GetProduct and ListProducts by Connect GET.
 */
import { createClient as createConnectClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client } from "../../src/index.js";
import { createGrpcTransport } from "../../src/transport/grpc/index.js";
import { CartService } from "./gen/shop/v1/cart_pb.js";
import { InventoryService } from "./gen/shop/v1/inventory_pb.js";
import { startShop, type Shop } from "./shop.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
let shop: Shop;
let base: string;
let cart: Client<typeof CartService>;
let user = 0;

beforeAll(async () => {
  shop = await startShop({ grpcPort: 0, httpPort: 0, logger: quiet });
  base = shop.grpcUrl.replace("grpc://", "http://");
  cart = createClient(CartService, createGrpcTransport({ baseUrl: base }));
}, 60_000);
afterAll(() => shop.close(100));

/** Reads the first stock value, reserves 2 units, and returns both values the watch then reports. */
async function watchWhileReserving(watch: AsyncIterable<{ sku: string; stock: number }>, sku: string): Promise<number[]> {
  const seen: number[] = [];
  for await (const change of watch) {
    expect(change.sku).toBe(sku);
    seen.push(change.stock);
    if (seen.length === 1) await cart.addItem({ userId: `watcher-${++user}`, sku, quantity: 2 });
    if (seen.length === 2) break;
  }
  return seen;
}

describe("InventoryService.WatchStock", () => {
  it("over gRPC: the current stock, then each change", async () => {
    const inventory = createClient(InventoryService, createGrpcTransport({ baseUrl: base }));
    const [first, second] = await watchWhileReserving(inventory.watchStock({ skus: ["KB-001"] }), "KB-001");
    expect(second).toBe(first - 2);
  });

  for (const [name, makeTransport] of [["Connect", createConnectTransport], ["gRPC-Web", createGrpcWebTransport]] as const) {
    it(`over ${name} (connect-node, HTTP/1.1)`, async () => {
      const inventory = createConnectClient(InventoryService, makeTransport({ baseUrl: base, httpVersion: "1.1" }));
      const [first, second] = await watchWhileReserving(inventory.watchStock({ skus: ["MS-002"] }), "MS-002");
      expect(second).toBe(first - 2);
    });
  }

  it("as server-sent events at the gateway", async () => {
    const ac = new AbortController();
    const res = await fetch(`${shop.httpUrl}/v1/stock:watch?skus=LP-009`, { headers: { accept: "text/event-stream" }, signal: ac.signal });
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: { sku: string; stock: number }[] = [];
    let buffer = "";
    while (events.length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (let i = buffer.indexOf("\n\n"); i >= 0; i = buffer.indexOf("\n\n")) {
        const event = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (event.startsWith("data: ")) events.push(JSON.parse(event.slice(6)) as { sku: string; stock: number });
        if (events.length === 1) await cart.addItem({ userId: `watcher-${++user}`, sku: "LP-009", quantity: 2 });
      }
    }
    ac.abort();
    expect(events[1]).toEqual({ sku: "LP-009", stock: events[0].stock - 2 });
  });
});

describe("GetProduct and ListProducts are NO_SIDE_EFFECTS", () => {
  it("answer Connect GET", async () => {
    const inventory = createConnectClient(InventoryService, createConnectTransport({ baseUrl: base, httpVersion: "1.1", useHttpGet: true }));
    expect((await inventory.getProduct({ sku: "KB-001" })).name).toBe("Mechanical keyboard");
    expect((await inventory.listProducts({})).products.length).toBeGreaterThanOrEqual(10);
    const res = await fetch(`${base}/shop.v1.InventoryService/GetProduct?connect=v1&encoding=json&message=${encodeURIComponent('{"sku":"KB-001"}')}`);
    expect(await res.json()).toMatchObject({ sku: "KB-001" });
  });
});
