/**
 * `ferry list`, `describe`, `call`, `health` and `bench` against the shop
 * (examples/shop, started in this process on free ports), run as a user runs
 * them: the CLI in a child process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import { startShop, type Shop } from "../../examples/shop/shop.js";
import { jsonLines, runFerry } from "./run-ferry.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

describe("ferry against the shop", { timeout: 60_000 }, () => {
  let shop: Shop;
  let target: string;

  beforeAll(async () => {
    // internalTransport "native" also serves the services on a native:// port.
    shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, internalTransport: "native", logger: quiet });
    target = new URL(shop.grpcUrl).host;
  });
  afterAll(() => shop.close(100));

  it("list prints the shop's services, health and reflection, one full name a line", async () => {
    const run = await runFerry(["list", target]);
    expect(run.code).toBe(0);
    const names = run.stdout.trim().split("\n");
    expect(names).toEqual(expect.arrayContaining(["shop.v1.InventoryService", "shop.v1.CartService", "shop.v1.OrderService", "grpc.health.v1.Health"]));
    expect(names).toEqual([...names].sort());
  });

  it("list SERVICE prints its methods", async () => {
    const run = await runFerry(["list", target, "shop.v1.InventoryService"]);
    expect(run.stdout.trim().split("\n")).toEqual(["shop.v1.InventoryService.ListProducts", "shop.v1.InventoryService.GetProduct", "shop.v1.InventoryService.WatchStock", "shop.v1.InventoryService.Reserve", "shop.v1.InventoryService.Release"]);
  });

  it("describe prints a service, a method with its messages, and a message as .proto text", async () => {
    const service = await runFerry(["describe", target, "shop.v1.InventoryService"]);
    expect(service.code).toBe(0);
    expect(service.stdout).toContain("service InventoryService {\n  rpc ListProducts(shop.v1.ListProductsRequest) returns (shop.v1.ListProductsResponse);");
    const method = await runFerry(["describe", target, "shop.v1.InventoryService/GetProduct"]);
    expect(method.stdout).toContain("rpc GetProduct(shop.v1.GetProductRequest) returns (shop.v1.Product);");
    expect(method.stdout).toContain("message GetProductRequest {\n  string sku = 1;\n}");
    // Order's file imports cart.proto and google/api/annotations.proto, which cart.proto imports too.
    const diamond = await runFerry(["describe", target, "shop.v1.Order"]);
    expect(diamond.code).toBe(0);
    expect(diamond.stdout).toContain("  shop.v1.OrderStatus status = 6;");
    const message = await runFerry(["describe", target, "shop.v1.Cart"]);
    expect(message.stdout).toContain("message Cart {\n  string user_id = 1;\n  repeated shop.v1.CartLine lines = 2;");
    const missing = await runFerry(["describe", target, "shop.v1.Nope"]);
    expect(missing.code).toBe(5);
    expect(missing.stderr.trim()).toBe('ERROR: NOT_FOUND: symbol "shop.v1.Nope" not found');
  });

  it("call ListProducts prints the catalog as JSON", async () => {
    const run = await runFerry(["call", target, "shop.v1.InventoryService/ListProducts"]);
    expect(run.code).toBe(0);
    const [response] = jsonLines(run.stdout) as { products: { sku: string; priceCents: string }[] }[];
    expect(response.products.map((p) => p.sku)).toContain("KB-001");
    expect(response.products.find((p) => p.sku === "KB-001")?.priceCents).toBe("8900");
  });

  it("call accepts Service.Method and /Service/Method, and -d with a request", async () => {
    for (const name of ["shop.v1.InventoryService.GetProduct", "/shop.v1.InventoryService/GetProduct"]) {
      const run = await runFerry(["call", target, name, "-d", '{"sku":"KB-001"}']);
      expect(run.code).toBe(0);
      expect(jsonLines(run.stdout)).toEqual([{ sku: "KB-001", name: "Mechanical keyboard", priceCents: "8900", stock: expect.any(Number) }]);
    }
  });

  it("a failed call prints ERROR: CODE: message on stderr and exits with the status code", async () => {
    const run = await runFerry(["call", target, "shop.v1.InventoryService/GetProduct", "-d", '{"sku":"NOPE-1"}']);
    expect(run.code).toBe(5);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim()).toBe('ERROR: NOT_FOUND: unknown SKU "NOPE-1"');
  });

  it("an unknown method exits 5 naming the methods the service has", async () => {
    const run = await runFerry(["call", target, "shop.v1.InventoryService/Nope"]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain("(it has: ListProducts, GetProduct, WatchStock, Reserve, Release)");
  });

  it("health exits 0 with SERVING, 1 with NOT_SERVING, 5 for an unknown service", async () => {
    const serving = await runFerry(["health", target]);
    expect([serving.code, serving.stdout]).toEqual([0, "SERVING\n"]);
    shop.server.health!.set("shop.v1.CartService", ServingStatus.NOT_SERVING);
    try {
      const notServing = await runFerry(["health", target, "shop.v1.CartService"]);
      expect([notServing.code, notServing.stdout, notServing.stderr]).toEqual([1, "NOT_SERVING\n", ""]);
    } finally {
      shop.server.health!.set("shop.v1.CartService", ServingStatus.SERVING);
    }
    const unknown = await runFerry(["health", target, "shop.v1.Nope"]);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toMatch(/^ERROR: NOT_FOUND: /);
  });

  it("works over Ferry's native protocol (native:// targets) too", async () => {
    const url = shop.nativeUrl!;
    const list = await runFerry(["list", url]);
    expect(list.stdout.split("\n")).toContain("shop.v1.InventoryService");
    const call = await runFerry(["call", url, "shop.v1.InventoryService/GetProduct", "-d", '{"sku":"MS-002"}']);
    expect(call.code).toBe(0);
    expect(jsonLines(call.stdout)).toEqual([expect.objectContaining({ sku: "MS-002", name: "Wireless mouse" })]);
  });

  it("bench --json reports every call: counts add up to -n, status codes counted", async () => {
    const run = await runFerry(["bench", target, "shop.v1.InventoryService/GetProduct", "-d", '{"sku":"KB-001"}', "-n", "60", "-c", "20", "--json"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const [report] = jsonLines(run.stdout) as { totalCalls: number; concurrency: number; statusCodes: Record<string, number>; histogram: { count: number }[]; latencyMs: Record<string, number> }[];
    expect(report.totalCalls).toBe(60);
    expect(report.concurrency).toBe(20);
    expect(report.statusCodes).toEqual({ OK: 60 });
    expect(report.histogram.reduce((sum, b) => sum + b.count, 0)).toBe(60);
    expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p99);
    expect(report.latencyMs.fastest).toBeLessThanOrEqual(report.latencyMs.slowest);
  });

  it("bench counts failed calls by status code", async () => {
    const run = await runFerry(["bench", target, "shop.v1.InventoryService/GetProduct", "-d", '{"sku":"NOPE-1"}', "-n", "10", "--json"]);
    const [report] = jsonLines(run.stdout) as { totalCalls: number; statusCodes: Record<string, number>; errors: Record<string, number> }[];
    expect(report.statusCodes).toEqual({ NOT_FOUND: 10 });
    expect(report.errors).toEqual({ 'NOT_FOUND: unknown SKU "NOPE-1"': 10 });
  });

  it("bench without --json prints the ghz-style report", async () => {
    const run = await runFerry(["bench", target, "shop.v1.InventoryService/ListProducts", "-n", "20", "-c", "2"]);
    expect(run.code).toBe(0);
    for (const heading of ["Summary:", "Count:        20", "Response time histogram:", "Latency distribution:", "99.9 % in", "Status code distribution:", "[OK] 20 responses"]) {
      expect(run.stdout).toContain(heading);
    }
  });
});
