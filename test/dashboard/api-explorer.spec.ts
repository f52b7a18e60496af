/**
 * The API explorer against a real Ferry gRPC server with reflection (the
 * test EchoService on 127.0.0.1 port 0): methods listed with request
 * templates from their descriptors; unary, server-streaming and
 * client-streaming calls from JSON with status, responses, headers and
 * trailers; a failed call's code; bad requests answered 400/404/501.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "../../src/index.js";
import { addReflectionService } from "../../src/transport/grpc/index.js";
import { EXPLORER_CALL_PATH, EXPLORER_PATH, startDashboard, type Dashboard, type ExplorerCallResult, type ExplorerService } from "../../src/dashboard/index.js";
import { EchoService, echoImpl } from "../support/echo-service.js";

const ECHO = "ferry.test.v1.EchoService";
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

describe("API explorer", () => {
  let server: Server;
  let dashboard: Dashboard;

  beforeAll(async () => {
    server = createServer({ logger: quiet }).service(EchoService, echoImpl);
    addReflectionService(server);
    const target = new URL((await server.listen("grpc://127.0.0.1:0")).url).host;
    dashboard = await startDashboard({ port: 0, explorer: { target } });
  });
  afterAll(async () => {
    await dashboard.close();
    await server.shutdown(100);
  });

  const call = async (body: unknown, headers: Record<string, string> = { "content-type": "application/json" }): Promise<Response> =>
    fetch(new URL(EXPLORER_CALL_PATH, dashboard.url), { method: "POST", headers, body: JSON.stringify(body) });

  it("lists every method with a request template from its descriptor", async () => {
    const { services } = (await (await fetch(new URL(EXPLORER_PATH, dashboard.url))).json()) as { services: ExplorerService[] };
    const echo = services.find((s) => s.name === ECHO)!;
    expect(echo.methods.map((m) => [m.name, m.kind])).toEqual(expect.arrayContaining([["Echo", "unary"], ["ServerStream", "server_streaming"], ["ClientStream", "client_streaming"], ["Bidi", "bidi_streaming"]]));
    const unary = echo.methods.find((m) => m.name === "Echo")!;
    expect(unary.requestTemplate).toMatchObject({ text: "", count: 0, delayMs: 0 });
    expect(echo.methods.find((m) => m.name === "ClientStream")!.requestTemplate).toEqual([unary.requestTemplate]);
  });

  it("runs a unary call with metadata and shows the response, headers and trailers", async () => {
    const res = await call({ service: ECHO, method: "Echo", request: { text: "hi" }, metadata: { "x-probe": "1" } });
    const result = (await res.json()) as ExplorerCallResult;
    expect(result).toMatchObject({ code: "OK", responses: [expect.objectContaining({ text: "hi" })], truncated: false });
    expect(result.headers["x-probe"]).toBe("1");
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it("runs server- and client-streaming calls", async () => {
    const stream = (await (await call({ service: ECHO, method: "ServerStream", request: { text: "s", count: 3 } })).json()) as ExplorerCallResult;
    expect(stream.responses).toHaveLength(3);
    const client = (await (await call({ service: ECHO, method: "ClientStream", request: [{ text: "a" }, { text: "b" }] })).json()) as ExplorerCallResult;
    expect(client.code).toBe("OK");
    expect(client.responses).toHaveLength(1);
  });

  it("reports a failed call's status code and message", async () => {
    const result = (await (await call({ service: ECHO, method: "Echo", request: { text: "nope", failCode: 5 } })).json()) as ExplorerCallResult;
    expect(result).toMatchObject({ code: "NOT_FOUND", message: "nope", responses: [] });
    expect(result.trailers["x-fail-trailer"]).toBe("yes");
  });

  it("answers 400 for a request that does not fit, 404 for an unknown method, 403 cross-origin", async () => {
    expect((await call({ service: ECHO, method: "Echo", request: { nope: 1 } })).status).toBe(400);
    expect((await call({ service: ECHO, method: "ClientStream", request: { text: "not an array" } })).status).toBe(400);
    expect((await call({ service: ECHO, method: "Missing", request: {} })).status).toBe(404);
    expect((await call({ service: ECHO, method: "Echo" }, { "content-type": "application/json", origin: "http://evil.example" })).status).toBe(403);
  });

  it("answers 501 without an explorer target", async () => {
    const bare = await startDashboard({ port: 0 });
    try {
      expect((await fetch(new URL(EXPLORER_PATH, bare.url))).status).toBe(501);
    } finally {
      await bare.close();
    }
  });
});
