/**
 * gRPC message compression (gzip, deflate) on the grpc transport: Ferry to
 * Ferry, both directions with @grpc/grpc-js, per-message opt-out, and the
 * receive limit applied after decompression.
 */
import * as grpc from "@grpc/grpc-js";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, type Server, type ServiceImpl } from "../src/index.js";
import { createGrpcTransport, grpcResponseCompression, setMessageCompression, wasReceivedCompressed, type GrpcTransport } from "../src/transport/grpc/index.js";
import { EchoService } from "./gen/ferry/test/v1/echo_pb.js";
import { GrpcJsEchoClient, startGrpcJsEchoServer } from "./support/grpc-js-echo.js";
import { grpcFrame, rawCall as rawStreamCall, rawSession } from "./support/raw-grpc.js";
import { rejection } from "./support/rejection.js";

const frame = grpcFrame;

/** One raw gRPC request on a fresh connection. */
async function rawCall(url: string, path: string, extra: Record<string, string>, body: Buffer) {
  const session = await rawSession(url);
  try {
    return await rawStreamCall(session, path, body, extra);
  } finally {
    session.close();
  }
}

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const tag = (m: object) => (wasReceivedCompressed(m as never) ? "compressed" : "plain");

/** Echo handlers that report whether each request arrived compressed, and compress responses on request. */
const impl: ServiceImpl<typeof EchoService> = {
  echo(req, ctx) {
    if (req.count === 1) ctx.values.set(grpcResponseCompression, "gzip");
    return { text: tag(req), payload: req.payload };
  },
  async *serverStream(req, ctx) {
    ctx.values.set(grpcResponseCompression, "deflate");
    for (let i = 0; i < req.count; i++) {
      const res = { $typeName: "ferry.test.v1.EchoResponse", text: "r", payload: new Uint8Array(100), index: i } as const;
      yield i % 2 === 1 ? setMessageCompression(res as never, false) : res;
    }
  },
  async clientStream(reqs) {
    const seen: string[] = [];
    for await (const r of reqs) seen.push(tag(r));
    return { text: seen.join(","), index: seen.length };
  },
};

describe("grpc compression", () => {
  let server: Server;
  let url: string;
  let transport: GrpcTransport;

  beforeAll(async () => {
    server = createServer({ logger: quiet, maxReceiveMessageBytes: 1024 * 1024 }).service(EchoService, impl);
    ({ url } = await server.listen("grpc://127.0.0.1:0"));
    transport = createGrpcTransport({ baseUrl: url });
  });
  afterAll(async () => {
    await transport.close();
    await server.shutdown(100);
  });

  describe("request compression", () => {
    it("sends uncompressed by default", async () => {
      const client = createClient(EchoService, transport);
      expect((await client.echo({ text: "x" })).text).toBe("plain");
    });

    it.each(["gzip", "deflate"] as const)("compresses every request with withOptions({ sendCompression: %s })", async (enc) => {
      const client = createClient(EchoService, transport.withOptions({ sendCompression: enc }));
      const res = await client.echo({ payload: new Uint8Array(5000).fill(7) });
      expect(Buffer.from(res.payload).equals(Buffer.alloc(5000, 7))).toBe(true);
      expect((await client.echo({})).text).toBe("compressed");
    });

    it("compresses one unary request marked with setMessageCompression(m, true)", async () => {
      const client = createClient(EchoService, transport);
      const { create } = await import("@bufbuild/protobuf");
      const { EchoRequestSchema } = await import("./gen/ferry/test/v1/echo_pb.js");
      expect((await client.echo(setMessageCompression(create(EchoRequestSchema, {}), true))).text).toBe("compressed");
    });

    it("skips compression for a message marked false inside a compressed stream", async () => {
      const client = createClient(EchoService, transport.withOptions({ sendCompression: "gzip" }));
      const { create } = await import("@bufbuild/protobuf");
      const { EchoRequestSchema } = await import("./gen/ferry/test/v1/echo_pb.js");
      async function* reqs() {
        yield create(EchoRequestSchema, { text: "a" });
        yield setMessageCompression(create(EchoRequestSchema, { text: "b" }), false);
      }
      expect((await client.clientStream(reqs())).text).toBe("compressed,plain");
    });
  });

  describe("response compression", () => {
    it("compresses a unary response when the handler sets grpcResponseCompression", async () => {
      const client = createClient(EchoService, transport);
      const res = await client.echo({ count: 1, payload: new Uint8Array(300) });
      expect(wasReceivedCompressed(res)).toBe(true);
      expect(res.payload.byteLength).toBe(300);
      expect(wasReceivedCompressed(await client.echo({}))).toBe(false);
    });

    it("compresses stream messages except those marked false", async () => {
      const client = createClient(EchoService, transport);
      const flags: boolean[] = [];
      for await (const m of client.serverStream({ count: 4 })) flags.push(wasReceivedCompressed(m));
      expect(flags).toEqual([true, false, true, false]);
    });

    it("answers uncompressed when the client does not accept the encoding", async () => {
      const t = createGrpcTransport({ baseUrl: url, acceptCompression: [] });
      const res = await createClient(EchoService, t).echo({ count: 1 });
      expect(wasReceivedCompressed(res)).toBe(false);
      await t.close();
    });
  });

  describe("limits and errors", () => {
    it("a decompression bomb fails with RESOURCE_EXHAUSTED and the server keeps serving", async () => {
      const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
      expect(bomb.byteLength).toBeLessThan(1024 * 1024);
      const { status, headers } = await rawCall(url, "/ferry.test.v1.EchoService/Echo", { "grpc-encoding": "gzip" }, frame(bomb, true));
      expect(status).toBe(200);
      expect(headers["grpc-status"]).toBe(String(Code.RESOURCE_EXHAUSTED));
      expect(String(headers["grpc-message"])).toContain("decompressed message exceeds");
      expect((await createClient(EchoService, transport).echo({ text: "still" })).text).toBe("plain");
    });

    it("an unknown grpc-encoding gets UNIMPLEMENTED and grpc-accept-encoding", async () => {
      const { headers } = await rawCall(url, "/ferry.test.v1.EchoService/Echo", { "grpc-encoding": "br" }, frame(Buffer.alloc(0), true));
      expect(headers["grpc-status"]).toBe(String(Code.UNIMPLEMENTED));
      expect(headers["grpc-accept-encoding"]).toBe("gzip,deflate,identity");
    });

    it("grpc-accept-encoding comes back with a compressed request's response, not with a plain one", async () => {
      const request = Buffer.from([0x0a, 0x01, 0x78]); // EchoRequest { text: "x" }
      const plain = await rawCall(url, "/ferry.test.v1.EchoService/Echo", {}, frame(request));
      expect(plain.trailers["grpc-status"]).toBe("0");
      expect(plain.headers["grpc-accept-encoding"]).toBeUndefined();
      const gzipped = await rawCall(url, "/ferry.test.v1.EchoService/Echo", { "grpc-encoding": "gzip" }, frame(zlib.gzipSync(request), true));
      expect(gzipped.trailers["grpc-status"]).toBe("0");
      expect(gzipped.headers["grpc-accept-encoding"]).toBe("gzip,deflate,identity");
    });

    it("a compressed flag with identity encoding gets INTERNAL", async () => {
      const { headers, trailers } = await rawCall(url, "/ferry.test.v1.EchoService/Echo", {}, frame(Buffer.alloc(1), true));
      expect((trailers["grpc-status"] ?? headers["grpc-status"])).toBe(String(Code.INTERNAL));
    });

    it("corrupt gzip data gets INTERNAL", async () => {
      const { headers } = await rawCall(url, "/ferry.test.v1.EchoService/Echo", { "grpc-encoding": "gzip" }, frame(Buffer.from("not gzip"), true));
      expect(headers["grpc-status"]).toBe(String(Code.INTERNAL));
    });

    it("rejects an unknown sendCompression with INVALID_ARGUMENT", () => {
      expect(() => transport.withOptions({ sendCompression: "br" as never })).toThrow(/sendCompression must be one of/);
    });
  });

  describe("with @grpc/grpc-js", () => {
    it("a gzip-compressing grpc-js client is understood by a Ferry server", async () => {
      const client: any = new GrpcJsEchoClient(url.replace("grpc://", ""), grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 } as never);
      const res = await new Promise<any>((resolve, reject) => client.Echo({ text: "x" }, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
      client.close();
      expect(res.text).toBe("compressed");
    });

    it("a gzip-compressing Ferry client is understood by a grpc-js server", async () => {
      const peer = await startGrpcJsEchoServer();
      const t = createGrpcTransport({ baseUrl: `http://${peer.address}`, sendCompression: "gzip" });
      const res = await createClient(EchoService, t).echo({ text: "z".repeat(1000) });
      expect(res.text).toBe("z".repeat(1000));
      const err = await rejection(createClient(EchoService, t).echo({ text: "e", failCode: Code.ABORTED }));
      expect(err.code).toBe(Code.ABORTED);
      await t.close();
      await peer.stop();
    });
  });
});
