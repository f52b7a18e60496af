/**
 * The shop's web surface: InventoryService.WatchStock over gRPC (Ferry's
 * client), Connect and gRPC-Web (connect-node) and as server-sent events at
 * the gateway; GetProduct and ListProducts by Connect GET; the gateway's
 * OpenAPI document, valid, and every path in it called as documented with
 * an answer that matches its schema.
 */
import { Parser } from "@asyncapi/parser";
import { validate, compileErrors } from "@readme/openapi-parser";
import Ajv2020 from "ajv8/dist/2020.js";
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
  shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, logger: quiet });
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

describe("the shop's OpenAPI document", () => {
  type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
  type Operation = { parameters?: { name: string; in: string }[]; requestBody?: unknown; responses: Record<string, { content: Record<string, { schema: unknown }> }> };
  let doc: Doc;
  beforeAll(async () => {
    doc = (await (await fetch(`${shop.httpUrl}/openapi.json`)).json()) as Doc;
  });

  it("is valid OpenAPI 3.1 (@readme/openapi-parser)", async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/products", "/v1/products/{sku}", "/v1/stock:watch", "/v1/carts/{user_id}/items"]));
  });

  it("every path answers as documented, with a body that matches the documented schema", async () => {
    const ajv = new Ajv2020.default({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: "doc", components: doc.components });
    const examples: Record<string, string> = { sku: "KB-001", user_id: "openapi-user", order_id: "no-such-order", skus: "KB-001" };
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const [verb, op] of Object.entries(ops)) {
        let path = template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(examples[name] ?? "x"));
        const query = (op.parameters ?? []).filter((p) => p.in === "query" && examples[p.name] !== undefined).map((p) => `${p.name}=${examples[p.name]}`);
        if (query.length > 0) path += `?${query.join("&")}`;
        const ac = new AbortController();
        const res = await fetch(`${shop.httpUrl}${path}`, {
          method: verb.toUpperCase(),
          signal: ac.signal,
          headers: op.requestBody === undefined ? {} : { "content-type": "application/json" },
          body: op.requestBody === undefined ? undefined : JSON.stringify({ sku: "KB-001", quantity: 1 }),
        });
        const type = (res.headers.get("content-type") ?? "").split(";")[0];
        const documented = res.status === 200 ? op.responses["200"] : op.responses.default;
        const schema = documented.content[type]?.schema;
        expect(schema, `${verb} ${path}: ${res.status} ${type} is documented`).toBeDefined();
        // A watch never ends: its first line is what is checked.
        const text = type === "application/x-ndjson" ? await firstLine(res) : await res.text();
        ac.abort();
        const check = ajv.compile(rebase(schema));
        expect(check(JSON.parse(text)), `${verb} ${path}: ${text.slice(0, 200)} ${JSON.stringify(check.errors)}`).toBe(true);
      }
    }
  });
});

async function firstLine(res: Response): Promise<string> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  return text.split("\n")[0];
}

/** A schema from the document, its `#/components/...` references pointing into the registered "doc" schema. */
function rebase(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as Record<string, unknown>;
}

describe("the shop's AsyncAPI document", () => {
  it("is served at /asyncapi.json and valid AsyncAPI 3.0 (@asyncapi/parser)", async () => {
    const text = await (await fetch(`${shop.httpUrl}/asyncapi.json`)).text();
    const { diagnostics } = await new Parser().parse(text);
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => d.message)).toEqual([]);
    expect(text).toContain('"address": "shop.order.placed"');
  });
});
