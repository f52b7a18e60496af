import { randomBytes } from "node:crypto";
import { trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, FerryError, type Server } from "../../src/index.js";
import { EchoService } from "../gen/ferry/test/v1/echo_pb.js";
import { echoImpl } from "../support/echo-service.js";

/**
 * The failed-call log line with no OpenTelemetry SDK registered: the server
 * writes it through the Router (no telemetry work on successful calls), once
 * per failed call, unary or streamed, on every transport that dispatches
 * through the Router.
 */
const listens = [`inproc://failed-log-${randomBytes(3).toString("hex")}`, "native://127.0.0.1:0", "grpc://127.0.0.1:0"];

describe.each(listens)("failed-call log line without an SDK (%s)", (listen) => {
  let server: Server;
  let client: ReturnType<typeof createClient<typeof EchoService>>;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    trace.disable(); // no tracer provider registered: the telemetry interceptor passes calls through
    const logger = { error() {}, info() {}, debug() {}, warn: (obj: Record<string, unknown>) => void logs.push(obj) };
    server = createServer({ logger }).service(EchoService, echoImpl);
    client = createClient(EchoService, (await server.listen(listen)).url);
  });
  afterAll(async () => {
    await client[Symbol.asyncDispose]();
    await server.shutdown(100);
  });

  it("logs nothing for a call that succeeds, one line for one that fails", async () => {
    logs.length = 0;
    await client.echo({ text: "ok" });
    expect(logs).toEqual([]);
    await expect(client.echo({ text: "down", failCode: Code.UNAVAILABLE })).rejects.toBeInstanceOf(FerryError);
    expect(logs).toEqual([expect.objectContaining({ service: "ferry.test.v1.EchoService", method: "Echo", code: "UNAVAILABLE", peer: expect.any(String) })]);
    expect(logs[0].durationMs).toBeGreaterThanOrEqual(0);
    expect(logs[0]).not.toHaveProperty("trace_id");
  });

  it("logs one line for a streamed response that fails after its messages", async () => {
    logs.length = 0;
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const m of client.serverStream({ text: "s", count: 2, failCode: Code.DATA_LOSS })) got.push(m.index);
      })(),
    ).rejects.toMatchObject({ code: Code.DATA_LOSS });
    expect(got).toEqual([0, 1]);
    expect(logs).toEqual([expect.objectContaining({ method: "ServerStream", code: "DATA_LOSS" })]);
  });

  it("says INTERNAL for a plain Error a handler threw", async () => {
    logs.length = 0;
    await expect(client.echo({ text: "throw-plain" })).rejects.toMatchObject({ code: Code.INTERNAL });
    expect(logs).toEqual([expect.objectContaining({ method: "Echo", code: "INTERNAL" })]);
  });
});
