/**
 * The Connect protocol (unary; JSON and binary; HTTP/1.1 and HTTP/2) served
 * by the grpc transport on its gRPC port, checked with curl, fetch and the
 * official @connectrpc/connect-node client.
 */
import { Code as ConnectCode, ConnectError, createClient as createConnectClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, type Server } from "../src/index.js";
import { createGrpcTransport } from "../src/transport/grpc/index.js";
import { EchoService, echoImpl } from "./support/echo-service.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const hasCurl = (() => {
  try {
    execFileSync("curl", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("Connect protocol on the gRPC port", () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer({ logger: quiet, maxReceiveMessageBytes: 64 * 1024 }).service(EchoService, echoImpl);
    const { url } = await server.listen("grpc://127.0.0.1:0");
    base = url.replace("grpc://", "http://");
  });
  afterAll(() => server.shutdown(100));

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  const curl = async (args: string[]) => (await promisify(execFile)("curl", args)).stdout;

  it.skipIf(!hasCurl)("answers curl over HTTP/1.1 with JSON", async () => {
    const out = await curl(["-s", "-H", "content-type: application/json", "-d", '{"text":"ann"}', `${base}/ferry.test.v1.EchoService/Echo`]);
    expect(JSON.parse(out)).toEqual({ text: "ann" });
  });

  it.skipIf(!hasCurl)("answers curl over HTTP/2 (prior knowledge) with JSON", async () => {
    const out = await curl(["-s", "--http2-prior-knowledge", "-H", "content-type: application/json", "-d", '{"text":"h2"}', `${base}/ferry.test.v1.EchoService/Echo`]);
    expect(JSON.parse(out)).toEqual({ text: "h2" });
  });

  it("serves gRPC on the same port", async () => {
    const t = createGrpcTransport({ baseUrl: base });
    expect((await createClient(EchoService, t).echo({ text: "grpc" })).text).toBe("grpc");
    await t.close();
  });

  for (const [httpVersion, useBinaryFormat] of [["1.1", false], ["1.1", true], ["2", false], ["2", true]] as const) {
    it(`works with @connectrpc/connect-node over HTTP/${httpVersion}, ${useBinaryFormat ? "binary" : "JSON"}`, async () => {
      const client = createConnectClient(EchoService, createConnectTransport({ baseUrl: base, httpVersion, useBinaryFormat }));
      const headers = new Headers({ "x-text": "v1" });
      let trailer: Headers | undefined;
      const res = await client.echo({ text: "connect", payload: new Uint8Array([1, 2]) }, { headers, onTrailer: (t) => (trailer = t) });
      expect(res.text).toBe("connect");
      expect([...res.payload]).toEqual([1, 2]);
      expect(trailer?.get("x-text")).toBe("v1");
      const err = await client.echo({ text: "gone", failCode: Code.NOT_FOUND }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(ConnectCode.NotFound);
      expect((err as ConnectError).rawMessage).toBe("gone");
      expect((err as ConnectError).metadata.get("x-error-md")).toBe("present");
    });
  }

  it("errors use Connect's JSON error body and HTTP status", async () => {
    const res = await post("/ferry.test.v1.EchoService/Echo", JSON.stringify({ text: "nope", failCode: Code.PERMISSION_DENIED }));
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ code: "permission_denied", message: "nope" });
  });

  it("connect-timeout-ms sets the deadline", async () => {
    const res = await post("/ferry.test.v1.EchoService/Echo", JSON.stringify({ text: "slow", delayMs: 5000 }), { "connect-timeout-ms": "50" });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: "deadline_exceeded" });
  });

  it("an invalid connect-timeout-ms is INVALID_ARGUMENT", async () => {
    const res = await post("/ferry.test.v1.EchoService/Echo", "{}", { "connect-timeout-ms": "12345678901" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("connect-timeout-ms") });
  });

  it("an unknown method is 404 unimplemented", async () => {
    const res = await post("/ferry.test.v1.EchoService/Nope", "{}");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "unimplemented" });
  });

  it("a streaming method called with a unary content type is refused with 415", async () => {
    const res = await post("/ferry.test.v1.EchoService/ServerStream", "{}");
    expect(res.status).toBe(415);
  });

  it("invalid JSON and unknown fields are INVALID_ARGUMENT", async () => {
    expect((await post("/ferry.test.v1.EchoService/Echo", "{not json")).status).toBe(400);
    const res = await post("/ferry.test.v1.EchoService/Echo", '{"nope": 1}');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument" });
  });

  it("accepts a gzip request body and refuses unknown content encodings", async () => {
    const body = gzipSync(JSON.stringify({ text: "zipped" }));
    const res = await fetch(`${base}/ferry.test.v1.EchoService/Echo`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body });
    expect(await res.json()).toEqual({ text: "zipped" });
    const br = await post("/ferry.test.v1.EchoService/Echo", "{}", { "content-encoding": "zstd" });
    expect(br.status).toBe(501);
    expect(await br.json()).toMatchObject({ code: "unimplemented" });
  });

  it("a body over the receive limit is RESOURCE_EXHAUSTED with HTTP 413 (not 429, which invites a retry)", async () => {
    const res = await post("/ferry.test.v1.EchoService/Echo", JSON.stringify({ text: "x".repeat(100_000) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: "resource_exhausted" });
  });
});
