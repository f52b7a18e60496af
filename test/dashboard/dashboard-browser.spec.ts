/**
 * The dashboard page in a real browser: Debian's chromium driven by
 * playwright-core (headless). A small shop's telemetry — made with the real
 * OpenTelemetry SDK and sent by its OTLP/HTTP exporter — goes to a
 * dashboard on 127.0.0.1 port 0; the test checks that the topology shows
 * the services and edges (RPC and message flow), the Calls view charts a
 * method and the failed call's status code, the trace list and waterfall
 * show every span, the Messaging view shows dead letters (one from Ferry's
 * own messaging telemetry on a memory broker, fed in-process) and its
 * re-drive button moves one back to its group, the Resilience
 * view a breaker state and retries, search narrows the list, a new trace
 * appears live, and no page logs a console error.
 *
 * Screenshots: set FERRY_DASHBOARD_SCREENSHOTS=docs to write them to
 * docs/dashboard-*.png (as committed); otherwise they go to a temporary
 * directory. Without /usr/bin/chromium the file is skipped with a reason,
 * unless FERRY_REQUIRE_SERVICES=1.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { context, propagation, trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { startDashboard, type Dashboard } from "../../src/dashboard/index.js";
import { createBroker, defineTopic, type Broker } from "../../src/messaging/index.js";
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { EchoRequestSchema } from "../gen/ferry/test/v1/echo_pb.js";
import { createServer, type Server } from "../../src/index.js";
import { addReflectionService } from "../../src/transport/grpc/index.js";
import { EchoService, echoImpl } from "../support/echo-service.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
import { createShopTelemetry, ORDERS_TOPIC, SHOP_SERVICES, type ShopTelemetry } from "./shop-telemetry.js";

/** What the tests read of the page's globals (this project type-checks without the DOM library). */
interface PageGlobals {
  ferryDashboard?: { refreshes: number; cy: { nodes(): CyCollection; edges(): CyCollection } };
  document: { querySelectorAll(selector: string): { length: number }; getElementById(id: string): { textContent: string } };
}
interface CyCollection {
  map<T>(f: (element: { id(): string }) => T): T[];
}

const CHROMIUM = "/usr/bin/chromium";
const missing = !existsSync(CHROMIUM);
if (missing && process.env.FERRY_REQUIRE_SERVICES === "1") throw new Error(`${CHROMIUM} is required (apt-get install -y chromium)`);
const toDocs = process.env.FERRY_DASHBOARD_SCREENSHOTS === "docs";
const shotDir = toDocs ? join(import.meta.dirname, "../../docs") : mkdtempSync(join(tmpdir(), "ferry-dashboard-"));

describe.skipIf(missing)(`dashboard page in chromium${missing ? ` (skipped: ${CHROMIUM} not installed)` : ""}`, () => {
  let dashboard: Dashboard;
  let shop: ShopTelemetry;
  let browser: Browser;
  let page: Page;
  let broker: Broker;
  let provider: NodeTracerProvider;
  let echoServer: Server;
  let okTrace: string;
  let failedTrace: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    broker = await createBroker("memory:dashboard-browser");
    echoServer = createServer({ logger: quiet }).service(EchoService, echoImpl);
    addReflectionService(echoServer);
    const echoTarget = new URL((await echoServer.listen("grpc://127.0.0.1:0")).url).host;
    dashboard = await startDashboard({ port: 0, liveIntervalMs: 200, broker, explorer: { target: echoTarget } });
    // In-process feed too: Ferry's own messaging telemetry (the audit service below) through the span processor.
    provider = new NodeTracerProvider({ resource: resourceFromAttributes({ "service.name": "audit" }), spanProcessors: [dashboard.spanProcessor] });
    provider.register();
    shop = createShopTelemetry({ url: dashboard.url });
    // Ten minutes of traffic, one checkout every 5 s, every seventh one failing at payment, latency varying.
    const now = Date.now();
    for (let i = 120; i >= 1; i--) shop.checkout({ atMs: now - i * 5_000, failPayment: i % 7 === 0, slowdown: 1 + ((i * 7) % 11) / 10 + (i > 60 && i < 80 ? 1.5 : 0) });
    okTrace = shop.checkout();
    failedTrace = shop.checkout({ failPayment: true, atMs: now + 1 });
    shop.poisonMessage();
    await shop.flush();
    await postBreakerState(dashboard.url, 2);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-background-networking"] });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => consoleErrors.push(String(error)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await shop?.shutdown();
    await dashboard?.close();
    await broker?.close();
    await echoServer?.shutdown(100);
    trace.disable();
    context.disable();
    propagation.disable();
    await provider?.shutdown();
    if (!toDocs) rmSync(shotDir, { recursive: true, force: true });
  });

  /** Loads the page afresh (a hash-only navigation would keep the document) on the view `hash`. */
  async function open(hash: string): Promise<void> {
    await page.goto("about:blank");
    await page.goto(`${dashboard.url}${hash}`);
    await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).ferryDashboard?.refreshes ?? 0) > 0);
  }

  it("shows every service, the topic, both consumer groups and their edges on the topology", async () => {
    await open("#topology");
    await page.locator("#edge-table tbody tr").nth(7).waitFor();
    const ids = await page.evaluate(() => {
      const cy = (globalThis as unknown as PageGlobals).ferryDashboard!.cy;
      return { nodes: cy.nodes().map((n) => n.id()), edges: cy.edges().map((e) => e.id()) };
    });
    expect(ids.nodes.sort()).toEqual([
      `group:${ORDERS_TOPIC}/inventory-audit`, `group:${ORDERS_TOPIC}/notification`, ...SHOP_SERVICES.map((s) => `service:${s}`).sort(), `topic:${ORDERS_TOPIC}`,
    ].sort());
    expect(ids.edges.sort()).toEqual([
      "service:gateway->service:order", "service:order->service:inventory", "service:order->service:payment", `service:order->topic:${ORDERS_TOPIC}`,
      `topic:${ORDERS_TOPIC}->group:${ORDERS_TOPIC}/notification`, `group:${ORDERS_TOPIC}/notification->service:notification`,
      `topic:${ORDERS_TOPIC}->group:${ORDERS_TOPIC}/inventory-audit`, `group:${ORDERS_TOPIC}/inventory-audit->service:inventory`,
    ].sort());
    const paymentEdge = page.locator(`#edge-table tr[data-edge="service:order->service:payment"]`);
    await expect(paymentEdge.locator(".code.err").textContent()).resolves.toMatch(/^UNAVAILABLE \d+$/);
    await page.screenshot({ path: join(shotDir, "dashboard-topology.png"), fullPage: true });
  });

  it("lists calls per method with their status codes and charts the selected one", async () => {
    await open("#calls");
    const charge = page.locator("#call-table tbody tr", { hasText: "shop.v1.PaymentService/Charge" }).filter({ hasText: "server" });
    await expect(charge.locator(".code.err").textContent()).resolves.toMatch(/^UNAVAILABLE \d+$/);
    await charge.click();
    await expect(page.locator("#chart-title").textContent()).resolves.toBe("payment · server · shop.v1.PaymentService/Charge");
    await page.locator("#chart-rate .uplot canvas").waitFor();
    await page.locator("#chart-latency .uplot canvas").waitFor();
    const legend = await page.locator("#chart-rate .u-legend .u-series th").allTextContents();
    expect(legend).toEqual(expect.arrayContaining(["OK", "UNAVAILABLE"]));
    await page.screenshot({ path: join(shotDir, "dashboard-calls.png"), fullPage: true });
  });

  it("shows a checkout's waterfall with a span of every service and both consumers", async () => {
    await open(`#traces/${okTrace}`);
    const rows = page.locator("#waterfall .span-row");
    await rows.nth(9).waitFor();
    expect(await rows.count()).toBe(10);
    const services = await page.locator("#waterfall .span-row .svc").allTextContents();
    expect(new Set(services)).toEqual(new Set(SHOP_SERVICES));
    const names = await page.locator("#waterfall .span-name").allTextContents();
    expect(names.filter((n) => n.includes(`process ${ORDERS_TOPIC}`))).toHaveLength(2);
    await page.screenshot({ path: join(shotDir, "dashboard-traces.png"), fullPage: true });
  });

  it("shows the failed call's status code, attributes and events", async () => {
    await open(`#traces/${failedTrace}`);
    await expect(page.locator(`#trace-table tr[data-trace="${failedTrace}"] .code.err`).textContent()).resolves.toBe("UNAVAILABLE");
    const charge = page.locator("#waterfall .span-row", { hasText: "payment" }).filter({ hasText: "server" });
    await expect(charge.locator(".code.err").textContent()).resolves.toBe("UNAVAILABLE");
    await charge.click();
    const detail = page.locator("#span-detail");
    await expect(detail.locator("dd").allTextContents()).resolves.toEqual(expect.arrayContaining(["UNAVAILABLE", "14", "error: UNAVAILABLE: payment provider down"]));
    await expect(detail.locator("ol.events strong").allTextContents()).resolves.toEqual(["exception"]);
    await page.screenshot({ path: join(shotDir, "dashboard-trace-error.png"), fullPage: true });
  });

  it("narrows the trace list by status and minimum duration", async () => {
    await open("#traces");
    await page.selectOption("#trace-search select[name=status]", "error");
    await page.click("#trace-search button");
    // 18 failed checkouts and 2 dead-lettered messages (one of them re-driven): every row listed has failed.
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll("#trace-table tbody tr").length >= 19);
    const rows = await page.locator("#trace-table tbody tr").count();
    expect(await page.locator("#trace-table tbody tr", { has: page.locator(".code.err") }).count()).toBe(rows);
    expect(await page.locator("#trace-table tbody tr .code.ok").count()).toBe(0);
    await page.fill("#trace-search input[name=minDurationMs]", "100000");
    await page.click("#trace-search button");
    await page.locator("#traces-empty").waitFor({ state: "visible" });
  });

  it("shows message flow per consumer group and the dead letter with its reason", async () => {
    await open("#messaging");
    const notification = page.locator(`#flow-table tr[data-topic="${ORDERS_TOPIC}"][data-group="notification"]`);
    await notification.waitFor();
    const cells = await notification.locator("td").allTextContents();
    // topic, system, published, group, services, deliveries, pending, unacked, failed, redelivered, nacked, dead-lettered, p99
    expect(cells.slice(6, 12)).toEqual(["–", "–", "3", "2", "2", "1"]);
    const letter = page.locator("#dead-letter-table tbody tr", { hasText: "poison-1" });
    await letter.waitFor();
    await expect(letter.locator("td").allTextContents()).resolves.toEqual(expect.arrayContaining(["3", "INVALID_ARGUMENT: order total is not a number", `${ORDERS_TOPIC}.dlq`]));
  });

  it("re-drives a real dead letter back to its consumer group from the Messaging view", async () => {
    const topic = defineTopic("audit.requested", EchoRequestSchema);
    const seen: string[] = [];
    let cured = false;
    await broker.subscribe(topic, { group: "audit", maxDeliveries: 1 }, (message) => {
      seen.push(message.text);
      if (!cured) throw new FerryError(Code.INVALID_ARGUMENT, "audit record has no order id");
    });
    await broker.publish(topic, { text: "poison" });
    await open("#messaging");
    const letter = page.locator("#dead-letter-table tbody tr", { hasText: "audit.requested" });
    // The dead letter reaches the page through the live feed: wait for its row before reading it.
    await letter.waitFor();
    await expect(letter.locator("td").allTextContents()).resolves.toEqual(expect.arrayContaining(["audit", "1", "audit record has no order id", "dead-letter.audit.requested"]));
    cured = true;
    page.once("dialog", (dialog) => void dialog.accept());
    await letter.locator("button.redrive-group").click();
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById("redrive-status").textContent.startsWith("Moved"));
    await expect(page.locator("#redrive-status").textContent()).resolves.toBe("Moved 1 dead letter of group audit back to audit.requested.");
    await expect.poll(() => seen).toEqual(["poison", "poison"]);
    await page.screenshot({ path: join(shotDir, "dashboard-messaging.png"), fullPage: true });
  });

  it("shows circuit breaker states and retry events", async () => {
    await open("#resilience");
    const breaker = page.locator("#breaker-table tbody tr").first();
    await breaker.waitFor();
    await expect(breaker.locator("td").allTextContents()).resolves.toEqual(expect.arrayContaining(["order", "payment", "open"]));
    const retries = page.locator("#policy-count-table tbody tr", { hasText: "ferry.resilience.retry.attempt" });
    await expect(retries.locator("td").nth(3).textContent()).resolves.toBe("18");
    await page.screenshot({ path: join(shotDir, "dashboard-resilience.png"), fullPage: true });
  });

  it("lists the target's methods in the API explorer, runs one and links its trace", async () => {
    await open("#explorer");
    await page.click('#explorer-methods button[data-method="ferry.test.v1.EchoService/Echo"]');
    await expect(page.locator("#explorer-types").textContent()).resolves.toBe("unary · ferry.test.v1.EchoRequest → ferry.test.v1.EchoResponse");
    expect(JSON.parse(await page.inputValue("#explorer-request"))).toMatchObject({ text: "", count: 0 });
    // The per-field form: a text box for the string, a number box for the count; the raw JSON follows it.
    await page.fill('#explorer-fields [data-path="text"] input', "from the page");
    await page.fill('#explorer-fields [data-path="count"] input', "1");
    expect(JSON.parse(await page.inputValue("#explorer-request"))).toMatchObject({ text: "from the page", count: 1 });
    await page.click("#explorer-form button[type=submit]");
    await page.locator("#explorer-result .explorer-status .code.ok").waitFor();
    await expect(page.locator("#explorer-result pre.json").textContent()).resolves.toContain('"text": "from the page"');
    await page.screenshot({ path: join(shotDir, "dashboard-explorer.png"), fullPage: true });
    await page.click("#explorer-result a");
    await page.locator("#waterfall .span-row", { hasText: "ferry.test.v1.EchoService/Echo" }).first().waitFor();
  });

  it("adds a new trace to the open page without a reload", async () => {
    await open("#traces");
    await page.locator("#trace-table tbody tr").nth(99).waitFor();
    const traceId = shop.checkout();
    await shop.flush();
    await page.locator(`#trace-table tr[data-trace="${traceId}"]`).waitFor();
    await expect(page.locator("#live").textContent()).resolves.toBe("live");
  });

  it("logged no console errors on any view", () => {
    expect(consoleErrors).toEqual([]);
  });
});

/** Sends the circuit breaker gauge of `order`'s `payment` policy (0 closed, 1 half-open, 2 open) as OTLP/JSON metrics. */
async function postBreakerState(url: string, state: number): Promise<void> {
  const body = {
    resourceMetrics: [{
      resource: { attributes: [{ key: "service.name", value: { stringValue: "order" } }] },
      scopeMetrics: [{ metrics: [{
        name: "ferry.resilience.circuit_breaker.state",
        gauge: { dataPoints: [{ asInt: String(state), timeUnixNano: String(Date.now() * 1e6), attributes: [{ key: "ferry.policy", value: { stringValue: "payment" } }] }] },
      }] }],
    }],
  };
  const res = await fetch(`${url}v1/metrics`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`POST /v1/metrics answered ${res.status}`);
}
