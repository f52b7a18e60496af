/**
 * CORS from a real browser: Chromium loads a page from one origin and calls
 * the gateway on another. An allowed origin gets through the preflight
 * (the Authorization header makes the request non-simple) and reads the
 * answer, a 401's WWW-Authenticate included; another origin is blocked by
 * the browser.
 */
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInProcessTransport, createServer, type Server } from "../../src/index.js";
import { createAuthInterceptor, createJwtVerifier, principalOf } from "../../src/auth/index.js";
import { createGateway, type Gateway } from "../../src/gateway/index.js";
import { CartService } from "../../examples/shop/gen/shop/v1/cart_pb.js";
import { ecKey, publicJwk, signToken } from "../auth/token-lab.js";

const CHROMIUM = "/usr/bin/chromium";
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const missing = !existsSync(CHROMIUM);
if (missing && process.env.FERRY_REQUIRE_SERVICES === "1") throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
if (missing) console.log(`skipping the browser CORS spec: ${CHROMIUM} is not installed (apt-get install -y chromium)`);

describe.skipIf(missing)("CORS from Chromium", () => {
  let browser: Browser;
  let server: Server;
  let gateway: Gateway;
  let gatewayUrl: string;
  let pages: http.Server;
  let pagePort: number;
  let token: string;

  beforeAll(async () => {
    const key = ecKey("browser");
    token = await signToken(key, { sub: "ann" });
    server = createServer({ logger: quiet, interceptors: [createAuthInterceptor({ jwt: createJwtVerifier({ jwks: { keys: [await publicJwk(key)] } }) })] }).service(CartService, {
      getCart: (req, ctx) => ({ userId: req.userId, lines: [{ sku: `seen by ${principalOf(ctx)?.subject}` }] }),
    });
    pages = http.createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>shop</title>"));
    await new Promise<void>((r) => pages.listen(0, "127.0.0.1", r));
    pagePort = (pages.address() as AddressInfo).port;
    gateway = createGateway({
      services: [CartService],
      transport: createInProcessTransport(server),
      logger: quiet,
      cors: { origins: [`http://127.0.0.1:${pagePort}`], credentials: false },
    });
    gatewayUrl = await gateway.listen(0);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-background-networking"] });
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await server?.shutdown(100);
    await new Promise<void>((r) => (pages ? pages.close(() => r()) : r()));
  });

  /** Runs fetch() in a page loaded from `origin`, returning what the script could see. */
  async function fetchFrom(origin: string, withToken: boolean | string): Promise<{ ok: true; status: number; body: unknown; challenge: string | null } | { ok: false; error: string }> {
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/`);
      const auth = withToken === false ? undefined : `Bearer ${withToken === true ? token : withToken}`;
      return await page.evaluate(
        async ({ url, auth }) => {
          try {
            const res = await fetch(url, { headers: auth === undefined ? {} : { authorization: auth } });
            return { ok: true as const, status: res.status, body: await res.json(), challenge: res.headers.get("www-authenticate") };
          } catch (err) {
            return { ok: false as const, error: String(err) };
          }
        },
        { url: `${gatewayUrl}/v1/carts/ann`, auth },
      );
    } finally {
      await page.close();
    }
  }

  it("an allowed origin passes the preflight and reads the answer", async () => {
    const out = await fetchFrom(`http://127.0.0.1:${pagePort}`, true);
    expect(out).toMatchObject({ ok: true, status: 200, body: { userId: "ann", lines: [{ sku: "seen by ann" }] } });
  });

  it("an allowed origin can read a 401 and its WWW-Authenticate challenge", async () => {
    const out = await fetchFrom(`http://127.0.0.1:${pagePort}`, `${token.slice(0, -4)}AAAA`);
    expect(out).toMatchObject({ ok: true, status: 401, body: { code: "unauthenticated" } });
    expect(out.ok && out.challenge).toMatch(/^Bearer error="invalid_token"/);
  });

  it("another origin is blocked by the browser", async () => {
    // localhost and 127.0.0.1 are different origins.
    const out = await fetchFrom(`http://localhost:${pagePort}`, true);
    expect(out).toMatchObject({ ok: false });
    expect(out.ok ? "" : out.error).toMatch(/TypeError|Failed to fetch/);
  });
});
