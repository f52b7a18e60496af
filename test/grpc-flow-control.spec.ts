/**
 * HTTP/2 flow-control windows of the grpc transport: defaults advertised to
 * peers, options validated, and streams larger than a small window still
 * complete (WINDOW_UPDATE keeps them flowing).
 */
import http2 from "node:http2";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, type Server } from "../src/index.js";
import { createGrpcServerTransport, createGrpcTransport } from "../src/transport/grpc/index.js";
import { EchoService } from "./gen/ferry/test/v1/echo_pb.js";
import { echoImpl } from "./support/echo-service.js";
import { rejection } from "./support/rejection.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

describe("grpc flow-control windows", () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer({ logger: quiet }).service(EchoService, echoImpl);
    ({ url } = await server.listen(createGrpcServerTransport({ port: 0, streamWindowBytes: 65_535, connectionWindowBytes: 65_535 })));
  });
  afterAll(() => server.shutdown(1000));

  describe("createGrpcServerTransport()", () => {
    it("advertises a 1 MiB stream window by default", async () => {
      const other = createServer({ logger: quiet }).service(EchoService, echoImpl);
      const { url: otherUrl } = await other.listen(createGrpcServerTransport({ port: 0 }));
      const session = http2.connect(otherUrl.replace("grpc:", "http:"));
      try {
        await once(session, "remoteSettings");
        expect(session.remoteSettings.initialWindowSize).toBe(1 << 20);
      } finally {
        session.destroy();
        await other.shutdown(1000);
      }
    });

    it("rejects a window below HTTP/2's minimum with INVALID_ARGUMENT", () => {
      expect(() => createGrpcServerTransport({ streamWindowBytes: 1000 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/streamWindowBytes/) }));
    });
  });

  describe("createGrpcTransport()", () => {
    it("rejects a connection window above 2^31-1 with INVALID_ARGUMENT", () => {
      expect(() => createGrpcTransport({ baseUrl: url, connectionWindowBytes: 2 ** 31 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT, message: expect.stringMatching(/connectionWindowBytes/) }));
    });

    it("streams far more than the smallest windows in both directions", async () => {
      const transport = createGrpcTransport({ baseUrl: url, streamWindowBytes: 65_535, connectionWindowBytes: 65_535 });
      const client = createClient(EchoService, transport);
      try {
        const payload = new Uint8Array(4096).fill(7);
        let bytes = 0;
        for await (const res of client.serverStream({ payload, count: 200 })) bytes += res.payload.length;
        expect(bytes).toBe(200 * 4096);
        async function* requests() {
          for (let i = 0; i < 100; i++) yield { payload, text: "x" };
        }
        const res = await client.clientStream(requests());
        expect(res.index).toBe(100);
        const failed = await rejection(client.echo({ text: "after", failCode: Code.ABORTED }));
        expect(failed.code).toBe(Code.ABORTED);
      } finally {
        await transport.close();
      }
    });
  });
});
