/**
 * The Connect/HTTP/1.1 side of the gRPC port as an HTTP edge: unparsable
 * requests and bodies over the limit get a JSON {code, message} answer with
 * the right status, and the port keeps serving.
 */
import http2 from "node:http2";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "../../src/index.js";
import { createRateLimitServerInterceptor } from "../../src/resilience/index.js";
import { createGrpcServerTransport } from "../../src/transport/grpc/index.js";
import { CartService } from "../../examples/shop/gen/shop/v1/cart_pb.js";
import { expectJsonAnswer, rawRequest, streamBody, type BadInputCase } from "./edge-support.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer({ logger: quiet, maxReceiveMessageBytes: 1024 }).service(CartService, { getCart: (req) => ({ userId: req.userId }) });
  base = (await server.listen(createGrpcServerTransport({ port: 0 }))).url.replace("grpc://", "http://");
});
afterAll(() => server.shutdown(100));

const PATH = "/shop.v1.CartService/GetCart";

async function stillServing(): Promise<void> {
  const res = await fetch(`${base}${PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"userId":"ann"}' });
  expect(res.status).toBe(200);
}


describe("Connect over HTTP/1.1: bad input", () => {
  const cases: BadInputCase[] = [
    {
      name: "headers over the limit: 431 with a JSON body",
      send: () => rawRequest(base, `POST ${PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-big: ${"b".repeat(20_000)}\r\ncontent-length: 2\r\n\r\n{}`),
      status: 431,
      code: "resource_exhausted",
      message: /request headers exceed/,
    },
    {
      name: "a byte outside ASCII in the request line: 400 with a JSON body",
      send: () => rawRequest(base, Buffer.concat([Buffer.from("POST /shop.v1.CartService/Get"), Buffer.from([0xff]), Buffer.from(" HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n")])),
      status: 400,
      code: "invalid_argument",
      message: /malformed request line/,
    },
    {
      name: "a chunked body over the limit: 413",
      send: () => streamBody(`${base}${PATH}`, 64 * 1024),
      status: 413,
      code: "resource_exhausted",
      message: /^request body exceeds the limit of 1024 bytes$/,
    },
    {
      name: "a declared Content-Length over the limit: 413 before reading",
      send: () => rawRequest(base, `POST ${PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10485760\r\n\r\n`),
      status: 413,
      code: "resource_exhausted",
      message: /exceeds the limit of 1024 bytes/,
    },
    {
      name: "a gzip body that inflates past the limit: 413",
      send: async () => {
        const res = await fetch(`${base}${PATH}`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: zlib.gzipSync(JSON.stringify({ userId: "x".repeat(100_000) })) });
        return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
      },
      status: 413,
      code: "resource_exhausted",
      message: /decompressed message exceeds the limit of 1024 bytes/,
    },
    {
      name: "a body that is not JSON: 400",
      send: async () => {
        const res = await fetch(`${base}${PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{user" });
        return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
      },
      status: 400,
      code: "invalid_argument",
      message: /request body is not valid JSON/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      await expectJsonAnswer(c);
      await stillServing();
    });
  }
});

describe("Connect over HTTP/1.1: rate limit", () => {
  it("a server rate limit answers 429 with Retry-After from its pushback", async () => {
    const limited = createServer({ logger: quiet, interceptors: [createRateLimitServerInterceptor({ ratePerSecond: 0.1, burst: 1 })] }).service(CartService, { getCart: (req) => ({ userId: req.userId }) });
    const url = (await limited.listen(createGrpcServerTransport({ port: 0 }))).url.replace("grpc://", "http://");
    try {
      const call = () => fetch(`${url}${PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"userId":"ann"}' });
      expect((await call()).status).toBe(200);
      const res = await call();
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(9);
      expect(((await res.json()) as { code: string }).code).toBe("resource_exhausted");
    } finally {
      await limited.shutdown(100);
    }
  });
});

describe("Connect: CORS", () => {
  let corsServer: Server;
  let url: string;
  beforeAll(async () => {
    corsServer = createServer({ logger: quiet }).service(CartService, { getCart: (req) => ({ userId: req.userId }) });
    url = (await corsServer.listen(createGrpcServerTransport({ port: 0, cors: { origins: ["http://app.test"] } }))).url.replace("grpc://", "http://");
  });
  afterAll(() => corsServer.shutdown(100));

  const preflight = (origin: string) =>
    fetch(`${url}${PATH}`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" } });

  it("answers preflights over HTTP/1.1: 204 for an allowed origin, 403 without CORS headers otherwise", async () => {
    const ok = await preflight("http://app.test");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://app.test");
    expect(ok.headers.get("access-control-allow-headers")).toContain("content-type");
    const evil = await preflight("http://evil.test");
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(await evil.json()).toEqual({ code: "permission_denied", message: "CORS: this origin is not allowed" });
  });

  it("answers preflights over HTTP/2 too", async () => {
    const session = http2.connect(url);
    try {
      const status = await new Promise<{ status: number; origin: unknown }>((resolve, reject) => {
        const req = session.request({ ":method": "OPTIONS", ":path": PATH, origin: "http://app.test", "access-control-request-method": "POST" });
        req.on("response", (h) => resolve({ status: Number(h[":status"]), origin: h["access-control-allow-origin"] }));
        req.on("error", reject);
        req.end();
      });
      expect(status).toEqual({ status: 204, origin: "http://app.test" });
    } finally {
      session.close();
    }
  });

  it("actual responses carry the CORS headers for allowed origins, errors included", async () => {
    const post = (path: string, origin: string) => fetch(`${url}${path}`, { method: "POST", headers: { origin, "content-type": "application/json" }, body: '{"userId":"ann"}' });
    const ok = await post(PATH, "http://app.test");
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://app.test");
    expect(ok.headers.get("vary")).toBe("Origin");
    const missing = await post("/shop.v1.CartService/Nope", "http://app.test");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("access-control-allow-origin")).toBe("http://app.test");
    expect((await post(PATH, "http://evil.test")).headers.get("access-control-allow-origin")).toBeNull();
  });
});
