/**
 * The real shop with the dashboard attached in-process, as `npm start`
 * (examples/shop/main.ts) wires it: the dashboard's span processor and
 * metric reader on the shop's OpenTelemetry SDK, the shop's broker, gRPC
 * port (API explorer) and event types attached after start. Driven over
 * HTTP (a checkout, a checkout whose payment fails) and looked at in
 * Debian's chromium (playwright-core, headless):
 *
 * - the topology draws each RPC service of the one process as its own node
 *   (OrderService → PaymentService, …), and the HTTP gateway's calls;
 * - the checkout's waterfall has the spans of every service and both
 *   consumers; the failed payment shows its status code in Calls;
 * - a poison message published by the test is dead-lettered; Inspect shows
 *   it as the broker holds it, with its payload decoded as JSON through its
 *   message type; Re-drive moves that one letter back to its group;
 * - Replay publishes the topic's messages since a time again for one group;
 * - the API explorer's per-field form runs ListProducts and GetProduct;
 * - no console errors.
 *
 * Screenshots: FERRY_DASHBOARD_SCREENSHOTS=docs writes docs/dashboard-shop-*.png.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRegistry } from "@bufbuild/protobuf";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDashboard, type Dashboard } from "../../src/dashboard/index.js";
import { defineTopic } from "../../src/messaging/index.js";
import { startObservability, type Observability } from "../../src/observability/index.js";
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { file_shop_v1_events, OrderPlacedSchema } from "../../examples/shop/gen/shop/v1/events_pb.js";
import { startShop, type Shop } from "../../examples/shop/shop.js";

process.env.FERRY_LOG_LEVEL ??= "silent";

/** What the tests read of the page's globals (this project type-checks without the DOM library). */
interface PageGlobals {
  ferryDashboard?: { refreshes: number; cy: { nodes(): { map<T>(f: (n: { id(): string }) => T): T[] }; edges(): { map<T>(f: (n: { id(): string }) => T): T[] } } };
  document: { getElementById(id: string): { textContent: string } };
}

const CHROMIUM = "/usr/bin/chromium";
const missing = !existsSync(CHROMIUM);
if (missing && process.env.FERRY_REQUIRE_SERVICES === "1") throw new Error(`${CHROMIUM} is required (apt-get install -y chromium)`);
const toDocs = process.env.FERRY_DASHBOARD_SCREENSHOTS === "docs";
const shotDir = toDocs ? join(import.meta.dirname, "../../docs") : mkdtempSync(join(tmpdir(), "ferry-shop-dashboard-"));
const svc = (name: string): string => `service:shop/shop.v1.${name}`;
const AUDIT_TOPIC = "shop.audit.requested";

describe.skipIf(missing)(`the shop's dashboard in chromium${missing ? ` (skipped: ${CHROMIUM} not installed)` : ""}`, () => {
  let dashboard: Dashboard;
  let observability: Observability;
  let shop: Shop;
  let browser: Browser;
  let page: Page;
  let failPayment = false;
  let auditCured = false;
  const auditSaw: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dashboard = await startDashboard({ port: 0, liveIntervalMs: 200 });
    observability = await startObservability({ serviceName: "shop", metricsPort: false, spanProcessors: [dashboard.spanProcessor], metricReaders: [await dashboard.metricReader(500)] });
    shop = await startShop({ auth: false, grpcPort: 0, httpPort: 0, paymentFailureRate: 0.5, random: () => (failPayment ? 0 : 0.99) });
    await dashboard.attach({ broker: shop.broker, explorer: { target: shop.grpcUrl }, messageTypes: createRegistry(file_shop_v1_events) });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-background-networking"] });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => consoleErrors.push(String(error)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await shop?.close(0);
    await observability?.shutdown();
    await dashboard?.close();
    if (!toDocs) rmSync(shotDir, { recursive: true, force: true });
  });

  async function open(hash: string): Promise<void> {
    await page.goto("about:blank");
    await page.goto(`${dashboard.url}${hash}`);
    await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).ferryDashboard?.refreshes ?? 0) > 0);
  }

  async function http(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${shop.httpUrl}${path}`, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  }

  /** A checkout's trace id, once its spans are in the dashboard. */
  async function checkoutTrace(failed: boolean): Promise<string> {
    let id: string | undefined;
    await expect.poll(async () => {
      await dashboard.spanProcessor.forceFlush();
      const list = (await (await fetch(`${dashboard.url}api/traces?method=Checkout&status=${failed ? "error" : "ok"}`)).json()) as { traceId: string }[];
      id = list[0]?.traceId;
      return id;
    }, { timeout: 10_000 }).toBeDefined();
    return id!;
  }

  it("draws each RPC service of the in-process shop as its own node, with the calls between them", async () => {
    expect((await http("/v1/carts/ann/items", { sku: "KB-001", quantity: 1 })).status).toBe(200);
    expect((await http("/v1/carts/ann/checkout", {})).status).toBe(200);
    failPayment = true;
    expect((await http("/v1/carts/bob/items", { sku: "KB-001", quantity: 1 })).status).toBe(200);
    expect((await http("/v1/carts/bob/checkout", {})).status).toBeGreaterThanOrEqual(400);
    failPayment = false;
    await open("#topology");
    await expect.poll(async () => page.evaluate(() => (globalThis as unknown as PageGlobals).ferryDashboard!.cy.edges().map((e) => e.id())), { timeout: 10_000 })
      .toEqual(expect.arrayContaining([`${svc("OrderService")}->${svc("PaymentService")}`, `${svc("CartService")}->${svc("InventoryService")}`, `service:shop->${svc("OrderService")}`]));
    const nodes = await page.evaluate(() => (globalThis as unknown as PageGlobals).ferryDashboard!.cy.nodes().map((n) => n.id()));
    expect(nodes).toEqual(expect.arrayContaining(["service:shop", svc("OrderService"), svc("PaymentService"), svc("CartService"), svc("InventoryService")]));
    const charge = page.locator(`#edge-table tr[data-edge="${svc("OrderService")}->${svc("PaymentService")}"]`);
    await expect(charge.locator(".code.err").first().textContent()).resolves.toMatch(/^UNAVAILABLE \d+$/);
    await page.screenshot({ path: join(shotDir, "dashboard-shop-topology.png"), fullPage: true });
  });

  it("shows the checkout's waterfall across the services and both consumers, and the failed payment's code", async () => {
    const traceId = await checkoutTrace(false);
    await open(`#traces/${traceId}`);
    await page.locator("#waterfall .span-row", { hasText: "shop.v1.PaymentService/Charge" }).first().waitFor();
    const names = await page.locator("#waterfall .span-name").allTextContents();
    for (const method of ["OrderService/Checkout", "CartService/GetCart", "PaymentService/Charge"]) expect(names.some((n) => n.includes(method))).toBe(true);
    await expect.poll(async () => (await page.locator("#waterfall .span-name").allTextContents()).filter((n) => n.includes("process shop.order.placed")).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    await open("#calls");
    const failed = page.locator("#call-table tbody tr", { hasText: "shop.v1.PaymentService/Charge" }).filter({ hasText: "server" });
    await expect(failed.locator(".code.err").textContent()).resolves.toMatch(/^UNAVAILABLE \d+$/);
  });

  it("inspects a poison message's dead letter with its decoded payload and re-drives that one letter", async () => {
    const topic = defineTopic(AUDIT_TOPIC, OrderPlacedSchema);
    await shop.broker.subscribe(topic, { group: "audit", maxDeliveries: 2, backoff: { initialMs: 10, maxMs: 20 } }, (message) => {
      auditSaw.push(message.orderId);
      if (!auditCured) throw new FerryError(Code.INVALID_ARGUMENT, "audit record has no user");
    });
    await shop.broker.publish(topic, { orderId: "poison-1", totalCents: 4200n });
    await open("#messaging");
    const letter = page.locator("#dead-letter-table tbody tr", { hasText: AUDIT_TOPIC });
    await letter.waitFor({ timeout: 15_000 });
    await letter.locator("button.inspect").click();
    const held = page.locator("#broker-letter-table tbody tr[data-message-id]");
    await held.first().waitFor({ timeout: 15_000 });
    await expect(held.locator("td").allTextContents()).resolves.toEqual(expect.arrayContaining(["2", "INVALID_ARGUMENT", "audit record has no user"]));
    const payload = JSON.parse((await held.locator("pre.payload").textContent()) ?? "") as Record<string, unknown>;
    expect(payload).toMatchObject({ orderId: "poison-1", totalCents: "4200" });
    await expect(held.locator("td .muted").first().textContent()).resolves.toBe("shop.v1.OrderPlaced");
    await page.screenshot({ path: join(shotDir, "dashboard-shop-dead-letters.png"), fullPage: true });
    auditCured = true;
    page.once("dialog", (dialog) => void dialog.accept());
    await held.locator("button.redrive-one").click();
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById("redrive-status").textContent.startsWith("Moved message"));
    await expect.poll(() => auditSaw.filter((id) => id === "poison-1").length, { timeout: 10_000 }).toBe(3);
  });

  it("replays a topic to one consumer group from a time", async () => {
    const before = auditSaw.length;
    await open("#messaging");
    await page.fill("#replay-topic", AUDIT_TOPIC);
    await page.fill("#replay-group", "audit");
    page.once("dialog", (dialog) => void dialog.accept());
    await page.click("#replay-form button[type=submit]");
    await page.waitForFunction(() => /^Replay(ed|.*failed)/.test((globalThis as unknown as PageGlobals).document.getElementById("replay-status").textContent), undefined, { timeout: 20_000 });
    // The poison message and its re-driven copy were both published in the last 15 minutes.
    await expect(page.locator("#replay-status").textContent()).resolves.toBe(`Replayed 2 messages of ${AUDIT_TOPIC} to group audit.`);
    await expect.poll(() => auditSaw.length - before, { timeout: 10_000 }).toBe(2);
  });

  it("runs ListProducts and GetProduct from the explorer's per-field form", async () => {
    await open("#explorer");
    await page.click('#explorer-methods button[data-method="shop.v1.InventoryService/ListProducts"]');
    await expect(page.locator("#explorer-fields").textContent()).resolves.toBe("This request has no fields.");
    await page.click("#explorer-form button[type=submit]");
    await page.locator("#explorer-result .explorer-status .code.ok").waitFor();
    await expect(page.locator("#explorer-result pre.json").textContent()).resolves.toContain('"sku": "KB-001"');
    await page.click('#explorer-methods button[data-method="shop.v1.InventoryService/GetProduct"]');
    await page.fill('#explorer-fields [data-path="sku"] input', "KB-001");
    await page.click("#explorer-form button[type=submit]");
    await page.locator("#explorer-result .explorer-status .code.ok").waitFor();
    await expect(page.locator("#explorer-result pre.json").textContent()).resolves.toContain('"name": "Mechanical keyboard"');
    await page.screenshot({ path: join(shotDir, "dashboard-shop-explorer.png"), fullPage: true });
  });

  it("logged no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
