/**
 * The gateway as an HTTP edge: every bad input gets a JSON {code, message}
 * with the right status (never a reset or a bare status line) and the
 * gateway keeps serving; CORS preflights and actual requests; rate limits
 * per client IP and per principal, in memory and shared through Redis.
 */
import zlib from "node:zlib";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInProcessTransport, createServer, FerryError, Code, type Server, type ServiceImpl } from "../../src/index.js";
import { createJwtVerifier } from "../../src/auth/index.js";
import { createGateway, createRedisRateLimitStore, type Gateway, type GatewayOptions } from "../../src/gateway/index.js";
import { CartService } from "../../examples/shop/gen/shop/v1/cart_pb.js";
import { InventoryService } from "../../examples/shop/gen/shop/v1/inventory_pb.js";
import { checkService } from "../support/services.js";
import { ecKey, publicJwk, signToken } from "../auth/token-lab.js";
import { expectJsonAnswer, rawRequest, streamBody, type BadInputCase } from "./edge-support.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const inventory: ServiceImpl<typeof InventoryService> = {
  listProducts: () => ({ products: [{ sku: "KB-001", name: "Keyboard" }] }),
  getProduct: (req) => {
    if (req.sku === "KB-001") return { sku: "KB-001", name: "Keyboard" };
    throw new FerryError(Code.NOT_FOUND, `product ${req.sku} not found`);
  },
};
const cart: ServiceImpl<typeof CartService> = {
  addItem: (req) => ({ userId: req.userId, lines: [{ sku: req.sku, quantity: req.quantity }] }),
  getCart: (req) => ({ userId: req.userId }),
};

const redisCheck = await checkService("Redis", "127.0.0.1", 6379);
let server: Server;
const gateways: Gateway[] = [];
beforeAll(() => {
  server = createServer({ logger: quiet }).service(InventoryService, inventory).service(CartService, cart);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await server.shutdown(100);
});

async function startGateway(options: Partial<GatewayOptions> = {}): Promise<string> {
  const g = createGateway({ services: [InventoryService, CartService], transport: createInProcessTransport(server), logger: quiet, ...options });
  gateways.push(g);
  return g.listen(0);
}

async function json(res: Response): Promise<{ code: string; message: string }> {
  expect(res.headers.get("content-type")).toBe("application/json");
  return (await res.json()) as { code: string; message: string };
}

describe("bad input", () => {
  let url: string;
  beforeAll(async () => {
    url = await startGateway({ maxBodyBytes: 1024 });
  });

  async function stillServing(): Promise<void> {
    const res = await fetch(`${url}/v1/products`);
    expect(res.status).toBe(200);
  }

  const cases: BadInputCase[] = [
    {
      name: "a chunked body over the limit: 413, written before the connection closes",
      send: () => streamBody(`${url}/v1/carts/ann/items`, 64 * 1024),
      status: 413,
      code: "resource_exhausted",
      message: /^request body exceeds the limit of 1024 bytes$/,
    },
    {
      name: "a declared Content-Length over the limit: 413 before reading",
      send: () => rawRequest(url, "POST /v1/carts/ann/items HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10485760\r\n\r\n"),
      status: 413,
      code: "resource_exhausted",
      message: /exceeds the limit of 1024 bytes/,
    },
    {
      name: "Expect: 100-continue with a body over the limit: 413 and no 100 Continue",
      send: async () => {
        const r = await rawRequest(url, "POST /v1/carts/ann/items HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-type: application/json\r\ncontent-length: 10485760\r\n\r\n");
        expect(r.raw).not.toMatch(/100 Continue/);
        return r;
      },
      status: 413,
      code: "resource_exhausted",
      message: /exceeds the limit/,
    },
    {
      name: "a URL over maxUrlBytes: 414",
      send: () => rawRequest(url, `GET /v1/products/${"A".repeat(9000)} HTTP/1.1\r\nhost: x\r\n\r\n`),
      status: 414,
      code: "invalid_argument",
      message: /^request URL of 9013 bytes exceeds the limit of 8192 bytes$/,
    },
    {
      name: "a URL over the header limit: 414 from the parser",
      send: () => rawRequest(url, `GET /v1/products/${"A".repeat(40_000)} HTTP/1.1\r\nhost: x\r\n\r\n`),
      status: 414,
      code: "resource_exhausted",
      message: /request URL exceeds/,
    },
    {
      name: "headers over the limit: 431",
      send: () => rawRequest(url, `GET /v1/products HTTP/1.1\r\nhost: x\r\nx-big: ${"b".repeat(40_000)}\r\n\r\n`),
      status: 431,
      code: "resource_exhausted",
      message: /request headers exceed/,
    },
    {
      name: "a byte outside ASCII in the request line: 400",
      send: () => rawRequest(url, Buffer.concat([Buffer.from("GET /v1/products/caf"), Buffer.from([0xe9]), Buffer.from(" HTTP/1.1\r\nhost: x\r\n\r\n")])),
      status: 400,
      code: "invalid_argument",
      message: /outside printable ASCII/,
    },
    {
      name: "%FF%FE in a path variable: 400 (no alias of %25FF%25FE)",
      send: () => fetchRaw(`${url}/v1/products/%FF%FE`),
      status: 400,
      code: "invalid_argument",
      message: /^invalid percent-escape in the path: the escaped bytes are not UTF-8$/,
    },
    {
      name: "a malformed percent-escape: 400",
      send: () => fetchRaw(`${url}/v1/products/%ZZ`),
      status: 400,
      code: "invalid_argument",
      message: /% must be followed by two hex digits/,
    },
    {
      name: "a malformed percent-escape in the query: 400",
      send: () => fetchRaw(`${url}/v1/carts/ann?user_id=%E0%A4%A`),
      status: 400,
      code: "invalid_argument",
      message: /in the query parameter/,
    },
    {
      name: "a known path with another verb: 405 with Allow",
      send: () => fetchRaw(`${url}/v1/products`, { method: "PUT" }),
      status: 405,
      code: "unimplemented",
      message: /^method "PUT" is not allowed on "\/v1\/products"$/,
      headers: { allow: /^GET$/ },
    },
    {
      name: "an unknown query parameter is named as one: 400",
      send: () => fetchRaw(`${url}/v1/products?colour=red`),
      status: 400,
      code: "invalid_argument",
      message: /^unknown query parameter "colour": shop.v1.ListProductsRequest has no such field$/,
    },
    {
      name: "a gzip body that inflates past the limit: 413",
      send: () => fetchRaw(`${url}/v1/carts/ann/items`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: zlib.gzipSync(JSON.stringify({ sku: "x".repeat(100_000) })) }),
      status: 413,
      code: "resource_exhausted",
      message: /^decompressed request body exceeds the limit of 1024 bytes$/,
    },
    {
      name: "a corrupt gzip body: 400",
      send: () => fetchRaw(`${url}/v1/carts/ann/items`, { method: "POST", headers: { "content-encoding": "gzip" }, body: "not gzip" }),
      status: 400,
      code: "invalid_argument",
      message: /not valid gzip/,
    },
    {
      name: "an unsupported Content-Encoding: 415",
      send: () => fetchRaw(`${url}/v1/carts/ann/items`, { method: "POST", headers: { "content-encoding": "br" }, body: "{}" }),
      status: 415,
      code: "unimplemented",
      message: /unsupported content-encoding "br"/,
    },
    {
      name: "a body that is not JSON: 400",
      send: () => fetchRaw(`${url}/v1/carts/ann/items`, { method: "POST", body: "{sku" }),
      status: 400,
      code: "invalid_argument",
      message: /^request body is not valid JSON/,
    },
    {
      name: "a long SKU comes back bounded in the handler's 404",
      send: () => fetchRaw(`${url}/v1/products/${"S".repeat(5000)}`),
      status: 404,
      code: "not_found",
      message: /^product S{1016}\.\.\. \(3994 more characters\)$/,
    },
    {
      name: "a long unknown path is quoted up to 64 characters",
      send: () => fetchRaw(`${url}/v2/${"p".repeat(5000)}`),
      status: 404,
      code: "not_found",
      message: /^no route for "GET" "\/v2\/p{60}"\.\.\. \(5004 characters\)$/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      await expectJsonAnswer(c);
      await stillServing();
    });
  }

  it("a gzip body within the limit is accepted", async () => {
    const res = await fetch(`${url}/v1/carts/ann/items`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: zlib.gzipSync(JSON.stringify({ sku: "KB-001", quantity: 2 })) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ userId: "ann", lines: [{ sku: "KB-001", quantity: 2 }] });
  });

  it("%25FF%25FE is a plain value, different from %FF%FE", async () => {
    const res = await fetch(`${url}/v1/products/%25FF%25FE`);
    expect(res.status).toBe(404);
    expect((await json(res)).message).toBe("product %FF%FE not found");
  });

  it("a query parameter naming a field bound by the path is ignored (the path wins)", async () => {
    expect((await fetch(`${url}/v1/carts/ann?user_id=bob`)).status).toBe(200);
  });

  async function fetchRaw(target: string, init?: RequestInit) {
    const res = await fetch(target, init);
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  }

});

describe("CORS", () => {
  let url: string;
  beforeAll(async () => {
    url = await startGateway({ cors: { origins: ["http://app.test"], credentials: true, maxAgeSeconds: 120 } });
  });

  const preflight = (origin: string, method: string, headers = "authorization, content-type") =>
    fetch(`${url}/v1/carts/ann`, { method: "OPTIONS", headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers } });

  it("answers an allowed preflight with 204 and the allow headers", async () => {
    const res = await preflight("http://app.test", "GET");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://app.test");
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-methods")).toContain("GET");
    expect(res.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(res.headers.get("access-control-max-age")).toBe("120");
    expect(res.headers.get("vary")).toMatch(/Origin/);
  });

  it("refuses a preflight from another origin, for another method or header, with 403 and no allow headers", async () => {
    for (const [res, message] of [
      [await preflight("http://evil.test", "GET"), "CORS: this origin is not allowed"],
      [await preflight("http://app.test", "TRACE"), "CORS: method TRACE is not allowed"],
      [await preflight("http://app.test", "GET", "x-evil"), "CORS: request header x-evil is not allowed"],
    ] as const) {
      expect(res.status).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect((await json(res)).message).toBe(message);
    }
  });

  it("decorates actual responses for allowed origins only, errors included", async () => {
    const ok = await fetch(`${url}/v1/products`, { headers: { origin: "http://app.test" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://app.test");
    expect(ok.headers.get("access-control-expose-headers")).toContain("www-authenticate");
    const notFound = await fetch(`${url}/v1/products/nope`, { headers: { origin: "http://app.test" } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get("access-control-allow-origin")).toBe("http://app.test");
    const evil = await fetch(`${url}/v1/products`, { headers: { origin: "http://evil.test" } });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(evil.headers.get("vary")).toBe("Origin");
  });

  it("without cors options a preflight is 405 with Allow", async () => {
    const plain = await startGateway();
    const res = await fetch(`${plain}/v1/products`, { method: "OPTIONS", headers: { origin: "http://app.test", "access-control-request-method": "GET" } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });

  it('refuses "*" with credentials and malformed origins', () => {
    expect(() => createGateway({ services: [], transport: createInProcessTransport(server), cors: { origins: "*", credentials: true } })).toThrow(/cannot be combined with credentials/);
    expect(() => createGateway({ services: [], transport: createInProcessTransport(server), cors: { origins: ["http://app.test/path"] } })).toThrow(/without a path/);
  });
});

describe("rate limit", () => {
  it("per client IP: over the burst 429 with Retry-After and a JSON body; other clients unaffected", async () => {
    const url = await startGateway({ rateLimit: { ratePerSecond: 0.5, burst: 2, clientIp: (req) => String(req.headers["x-client"]) } });
    const get = (client: string) => fetch(`${url}/v1/products`, { headers: { "x-client": client } });
    expect((await get("a")).status).toBe(200);
    expect((await get("a")).status).toBe(200);
    const limited = await get("a");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^[12]$/); // 2 s for a token at 0.5/s, less the time the requests took
    expect(await json(limited)).toEqual({ code: "resource_exhausted", message: `rate limit exceeded (0.5/s, burst 2); retry in ${limited.headers.get("retry-after")} s` });
    expect((await get("b")).status).toBe(200);
  });

  it("per principal when the gateway verifies tokens; invalid tokens are 401 and spend the IP's budget", async () => {
    const key = ecKey("edge");
    const verifier = createJwtVerifier({ jwks: { keys: [await publicJwk(key)] } });
    const url = await startGateway({ verifier, rateLimit: { ratePerSecond: 0.1, burst: 1 } });
    const get = (token: string) => fetch(`${url}/v1/products`, { headers: { authorization: `Bearer ${token}` } });
    const ann = await signToken(key, { sub: "ann" });
    const bob = await signToken(key, { sub: "bob" });
    expect((await get(ann)).status).toBe(200);
    expect((await get(ann)).status).toBe(429);
    expect((await get(bob)).status).toBe(200);
    const forged = await get(`${ann.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(401);
    expect(forged.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
    expect((await get(`${ann.slice(0, -4)}BBBB`)).status).toBe(429);
  });

  describe.skipIf(redisCheck.skip)("shared through Redis", () => {
    it("two gateways share one bucket per client", async () => {
      const redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: true });
      await redis.connect();
      const keyPrefix = `ferry-test:ratelimit:${process.pid}:${Date.now()}:`;
      try {
        const store = createRedisRateLimitStore(redis, { keyPrefix });
        const a = await startGateway({ rateLimit: { ratePerSecond: 0.2, burst: 3, store } });
        const b = await startGateway({ rateLimit: { ratePerSecond: 0.2, burst: 3, store } });
        const statuses = [];
        for (const u of [a, b, a, b, a]) statuses.push((await fetch(`${u}/v1/products`)).status);
        expect(statuses).toEqual([200, 200, 200, 429, 429]);
        const limited = await fetch(`${b}/v1/products`);
        expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      } finally {
        const keys = await redis.keys(`${keyPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
    });

    it("a failing store lets requests through by default and denies them with onStoreError: deny", async () => {
      const broken = { take: () => Promise.reject(new Error("redis down")) };
      const open = await startGateway({ rateLimit: { ratePerSecond: 1, store: broken } });
      expect((await fetch(`${open}/v1/products`)).status).toBe(200);
      const closed = await startGateway({ rateLimit: { ratePerSecond: 1, store: broken, onStoreError: "deny" } });
      expect((await fetch(`${closed}/v1/products`)).status).toBe(503);
    });
  });
});
