/**
 * Connect (streaming, GET, compression, timeouts, error details) and
 * gRPC-Web (binary, JSON, text) on the gRPC port, with
 * @connectrpc/connect-node's Connect and gRPC-Web clients as the peer over
 * HTTP/1.1 and HTTP/2, and raw fetch where the wire itself is checked.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code as ConnectCode, ConnectError, createClient as createConnectClient, type Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createServer, FerryError, type Server } from "../src/index.js";
import { createGrpcServerTransport } from "../src/transport/grpc/index.js";
import { EchoRequestSchema, EchoResponseSchema } from "./gen/ferry/test/v1/echo_pb.js";
import { MessagingNames } from "./gen/ferry/test/v1/web_pb.js";
import { EchoService, echoImpl } from "./support/echo-service.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const ECHO = "/ferry.test.v1.EchoService";
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer({ logger: quiet, maxReceiveMessageBytes: 256 * 1024 })
    .service(EchoService, {
      ...echoImpl,
      async echo(req, ctx) {
        if (req.text === "details") throw new FerryError(Code.FAILED_PRECONDITION, "with details", { details: [anyPack(DurationSchema, create(DurationSchema, { seconds: 7n }))] });
        return echoImpl.echo!(req, ctx);
      },
    })
    .service(MessagingNames, { getMessage: (req, ctx) => ({ name: req.name, text: ctx.transport }) });
  base = (await server.listen("grpc://127.0.0.1:0")).url.replace("grpc://", "http://");
});
afterAll(() => server.shutdown(100));

async function* requests(...texts: string[]) {
  for (const text of texts) yield { text };
}

const peers = [
  ["Connect", createConnectTransport],
  ["gRPC-Web", createGrpcWebTransport],
] as const;

for (const [protocol, makeTransport] of peers) {
  for (const httpVersion of ["1.1", "2"] as const) {
    for (const useBinaryFormat of [true, false]) {
      describe(`${protocol} over HTTP/${httpVersion}, ${useBinaryFormat ? "binary" : "JSON"}, with connect-node`, () => {
        let client: ReturnType<typeof createConnectClient<typeof EchoService>>;
        beforeAll(() => {
          client = createConnectClient(EchoService, makeTransport({ baseUrl: base, httpVersion, useBinaryFormat }) as Transport);
        });

        it("serves every method kind", async () => {
          expect((await client.echo({ text: "unary" })).text).toBe("unary");
          const streamed: string[] = [];
          for await (const m of client.serverStream({ text: "s", count: 3 })) streamed.push(`${m.text}${m.index}`);
          expect(streamed).toEqual(["s0", "s1", "s2"]);
          const summed = await client.clientStream(requests("a", "b", "c"));
          expect([summed.text, summed.index]).toEqual(["abc", 3]);
          if (httpVersion === "2") {
            const echoed: string[] = [];
            for await (const m of client.bidi(requests("x", "y"))) echoed.push(m.text);
            expect(echoed).toEqual(["x", "y"]);
          }
        });

        it("ends a stream with the handler's error, its metadata and the messages sent before it", async () => {
          const got: number[] = [];
          let trailer: Headers | undefined;
          const err = await (async () => {
            for await (const m of client.serverStream({ text: "late", count: 2, failCode: Code.NOT_FOUND }, { onTrailer: (t) => (trailer = t) })) got.push(m.index);
          })().catch((e: unknown) => e);
          expect(got).toEqual([0, 1]);
          expect(ConnectError.from(err).code).toBe(ConnectCode.NotFound);
          expect(ConnectError.from(err).rawMessage).toBe("late");
          expect(trailer?.get("x-fail-trailer") ?? "yes").toBe("yes");
          const failed = await (async () => {
            for await (const r of client.bidi((async function* () { yield { text: "no", failCode: Code.PERMISSION_DENIED }; })())) void r;
          })().catch((e: unknown) => ConnectError.from(e));
          if (httpVersion === "2") {
            expect(failed?.code).toBe(ConnectCode.PermissionDenied);
            expect(failed?.metadata.get("x-error-md")).toBe("present");
          }
        });

        it("carries error details (google.rpc.Status details)", async () => {
          const err = await client.echo({ text: "details" }).then(() => undefined, (e: unknown) => ConnectError.from(e));
          expect(err?.code).toBe(ConnectCode.FailedPrecondition);
          const [detail] = err!.findDetails(DurationSchema);
          expect(detail?.seconds).toBe(7n);
        });

        it("enforces the client's timeout on a stream", async () => {
          const err = await (async () => {
            for await (const m of client.serverStream({ text: "slow", count: 5, delayMs: 400 }, { timeoutMs: 150 })) void m;
          })().catch((e: unknown) => ConnectError.from(e));
          expect(err?.code).toBe(ConnectCode.DeadlineExceeded);
        });

        it("compresses requests and responses with gzip", async () => {
          const gz = createConnectClient(EchoService, makeTransport({ baseUrl: base, httpVersion, useBinaryFormat, sendCompression: compressionGzip, acceptCompression: [compressionGzip], compressMinBytes: 1 }) as Transport);
          const payload = new Uint8Array(4096).fill(7);
          const res = await gz.echo({ text: "zip", payload });
          expect(Buffer.from(res.payload).equals(Buffer.from(payload))).toBe(true);
          let n = 0;
          for await (const m of gz.serverStream({ text: "z", count: 2, payload })) n += m.payload.byteLength;
          expect(n).toBe(8192);
        });
      });
    }
  }
}

describe("Connect GET (idempotency_level = NO_SIDE_EFFECTS)", () => {
  it("connect-node with useHttpGet calls with GET", async () => {
    for (const useBinaryFormat of [true, false]) {
      const client = createConnectClient(MessagingNames, createConnectTransport({ baseUrl: base, httpVersion: "1.1", useHttpGet: true, useBinaryFormat }));
      expect(await client.getMessage({ name: "messages/1" })).toMatchObject({ name: "messages/1", text: "connect" });
    }
  });

  it("answers GET with the message in the query, JSON or base64 binary, compressed or not", async () => {
    const path = `${base}/ferry.test.v1.MessagingNames/GetMessage`;
    const json = await fetch(`${path}?connect=v1&encoding=json&message=${encodeURIComponent('{"name":"messages/7"}')}`);
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ name: "messages/7" });
    const bin = Buffer.from(toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "messages/8" }))).toString("base64url");
    const proto = await fetch(`${path}?connect=v1&encoding=proto&base64=1&message=${bin}`);
    expect(proto.headers.get("content-type")).toBe("application/proto");
    const { gzipSync } = await import("node:zlib");
    const zipped = gzipSync('{"name":"messages/9"}').toString("base64url");
    const gz = await fetch(`${path}?connect=v1&encoding=json&base64=1&compression=gzip&message=${zipped}`);
    expect(await gz.json()).toMatchObject({ name: "messages/9" });
  });

  it("refuses GET on a method with side effects (405, Allow: POST) and a GET without encoding (400)", async () => {
    const res = await fetch(`${base}${ECHO}/Echo?connect=v1&encoding=json&message=%7B%7D`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(await res.json()).toMatchObject({ code: "unimplemented" });
    const bad = await fetch(`${base}/ferry.test.v1.MessagingNames/GetMessage?message=%7B%7D`);
    expect(bad.status).toBe(400);
  });
});

describe("the wire, checked with fetch", () => {
  const envelope = (flags: number, bytes: Uint8Array) => {
    const prefix = Buffer.alloc(5);
    prefix[0] = flags;
    prefix.writeUInt32BE(bytes.byteLength, 1);
    return Buffer.concat([prefix, bytes]);
  };
  const split = (body: Buffer) => {
    const out: { flags: number; data: Buffer }[] = [];
    for (let o = 0; o < body.byteLength; ) {
      const len = body.readUInt32BE(o + 1);
      out.push({ flags: body[o], data: body.subarray(o + 5, o + 5 + len) });
      o += 5 + len;
    }
    return out;
  };

  it("Connect streaming: gzip-compressed messages when accepted, and the end-stream message with trailers", async () => {
    const req = toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "w", count: 2, payload: new Uint8Array(2048) }));
    const res = await fetch(`${base}${ECHO}/ServerStream`, {
      method: "POST",
      headers: { "content-type": "application/connect+proto", "connect-accept-encoding": "gzip", "x-tag": "t1" },
      body: envelope(0, req),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("connect-content-encoding")).toBe("gzip");
    const frames = split(Buffer.from(await res.arrayBuffer()));
    expect(frames.map((f) => f.flags)).toEqual([1, 1, 2]);
    expect(fromBinary(EchoResponseSchema, gunzipSync(frames[0].data)).payload.byteLength).toBe(2048);
    expect(JSON.parse(frames[2].data.toString())).toEqual({});
  });

  it("Connect streaming: an unknown method and a bad timeout end in the end-stream error", async () => {
    const res = await fetch(`${base}${ECHO}/Nope`, { method: "POST", headers: { "content-type": "application/connect+json" }, body: envelope(0, Buffer.from("{}")) });
    const [end] = split(Buffer.from(await res.arrayBuffer()));
    expect(end.flags).toBe(2);
    expect(JSON.parse(end.data.toString())).toMatchObject({ error: { code: "unimplemented" } });
    const bad = await fetch(`${base}${ECHO}/ServerStream`, { method: "POST", headers: { "content-type": "application/connect+json", "connect-timeout-ms": "soon" }, body: envelope(0, Buffer.from("{}")) });
    expect(JSON.parse(split(Buffer.from(await bad.arrayBuffer()))[0].data.toString())).toMatchObject({ error: { code: "invalid_argument" } });
  });

  it("gRPC-Web text: a base64 request and response, status in the trailers frame", async () => {
    const req = envelope(0, toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "b64", count: 2 })));
    const res = await fetch(`${base}${ECHO}/ServerStream`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web-text", "x-grpc-web": "1" },
      body: req.toString("base64"),
    });
    expect(res.headers.get("content-type")).toBe("application/grpc-web-text");
    const text = await res.text();
    const body = Buffer.concat(text.split(/(?<==)(?=[^=])/).map((p) => Buffer.from(p, "base64")));
    const frames = split(body);
    expect(frames.map((f) => f.flags)).toEqual([0, 0, 0x80]);
    expect(fromBinary(EchoResponseSchema, frames[1].data)).toMatchObject({ text: "b64", index: 1 });
    expect(frames[2].data.toString()).toContain("grpc-status: 0\r\n");
  });

  it("gRPC-Web binary: an error is a trailers frame with grpc-status and the percent-encoded message", async () => {
    const req = envelope(0, toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "é nope", failCode: Code.ABORTED })));
    const res = await fetch(`${base}${ECHO}/Echo`, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: req });
    const frames = split(Buffer.from(await res.arrayBuffer()));
    expect(frames.map((f) => f.flags)).toEqual([0x80]);
    expect(frames[0].data.toString()).toMatch(/grpc-status: 10\r\n[\s\S]*grpc-message: %C3%A9 nope\r\n/);
  });

  it("another content type is 415 and another HTTP method 405", async () => {
    const res = await fetch(`${base}${ECHO}/Echo`, { method: "POST", headers: { "content-type": "text/plain" }, body: "x" });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ code: "unimplemented" });
    const put = await fetch(`${base}${ECHO}/Echo`, { method: "PUT", headers: { "content-type": "application/json" }, body: "{}" });
    expect(put.status).toBe(405);
  });
});

describe("CORS for browsers on the gRPC port", () => {
  it("allows the Connect and gRPC-Web request headers and exposes grpc-status", async () => {
    const corsServer = createServer({ logger: quiet }).service(EchoService, echoImpl);
    const url = (await corsServer.listen(createGrpcServerTransport({ port: 0, cors: { origins: ["http://app.test"] } }))).url.replace("grpc://", "http://");
    try {
      const preflight = await fetch(`${url}${ECHO}/ServerStream`, {
        method: "OPTIONS",
        headers: { origin: "http://app.test", "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-grpc-web,x-user-agent,grpc-timeout,connect-protocol-version" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("http://app.test");
      const res = await fetch(`${url}${ECHO}/Echo`, { method: "POST", headers: { origin: "http://app.test", "content-type": "application/grpc-web+proto" }, body: Buffer.alloc(5) });
      expect(res.headers.get("access-control-expose-headers")).toContain("grpc-status");
      expect(res.headers.get("access-control-allow-origin")).toBe("http://app.test");
    } finally {
      await corsServer.shutdown(100);
    }
  });
});
