/**
 * gRPC's C-core (python3-grpcio) as the second interop peer, both ways: every
 * method kind, metadata (text and -bin), status codes with non-ASCII
 * messages, deadlines, UNIMPLEMENTED; and under load with C-core's default
 * settings — a long large server stream (C-core probes bandwidth with PINGs
 * during it, gRFC A8) and 1000 concurrent large unary calls on one
 * connection.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, FerryError, type Server } from "../src/index.js";
import { CcorePeer, checkCcore } from "./ccore/ccore-peer.js";
import { EchoService, echoImpl } from "./support/echo-service.js";
import { rejection } from "./support/rejection.js";

const ccore = await checkCcore();
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

describe.skipIf(ccore.skip)("gRPC C-core interop", () => {
  let peer: CcorePeer;
  let server: Server;
  let ferryTarget: string;

  beforeAll(async () => {
    peer = await CcorePeer.create();
    server = createServer({ logger: quiet }).service(EchoService, echoImpl);
    const { url } = await server.listen("grpc://127.0.0.1:0");
    ferryTarget = new URL(url).host;
  }, 60_000);

  afterAll(async () => {
    await server?.shutdown(100);
    await peer?.close();
  });

  describe("C-core client → Ferry server", () => {
    it("unary with text and binary metadata echoed in headers and trailers", async () => {
      expect(await peer.client(ferryTarget, "unary")).toEqual({
        text: "hello",
        payload: [1, 2],
        headers: { "x-text": "hello world", "x-data-bin": [0, 255, 1] },
        trailers: { "x-text": "hello world", "x-data-bin": [0, 255, 1] },
      });
    });

    it("server, client and bidi streaming", async () => {
      expect(await peer.client(ferryTarget, "server_stream")).toEqual({ indexes: [0, 1, 2, 3, 4] });
      expect(await peer.client(ferryTarget, "client_stream")).toEqual({ text: "abc", index: 3 });
      expect(await peer.client(ferryTarget, "bidi")).toEqual({ messages: [["x", 0], ["y", 1]] });
    });

    it("a status code with a non-ASCII message and trailers; DEADLINE_EXCEEDED; UNIMPLEMENTED", async () => {
      expect(await peer.client(ferryTarget, "error")).toMatchObject({ code: Code.NOT_FOUND, details: "nope ✗", trailers: { "x-fail-trailer": "yes" } });
      expect(await peer.client(ferryTarget, "deadline")).toEqual({ code: Code.DEADLINE_EXCEEDED });
      expect(await peer.client(ferryTarget, "unimplemented")).toEqual({ code: Code.UNIMPLEMENTED });
    });

    it("a long large server stream with C-core's default settings (BDP pings) completes", async () => {
      expect(await peer.client(ferryTarget, "large_stream", 2000, 32 * 1024)).toEqual({ messages: 2000, bytes: 2000 * 32 * 1024 });
    }, 150_000);

    it("1000 concurrent 1 MiB unary calls on one connection all succeed (no session memory limit below the windows)", async () => {
      expect(await peer.client(ferryTarget, "concurrent", 1000, 1024 * 1024)).toEqual({ ok: 1000, errors: {} });
    }, 150_000);
  });

  describe("Ferry client → C-core server", () => {
    let client: ReturnType<typeof createClient<typeof EchoService>>;

    beforeAll(async () => {
      client = createClient(EchoService, `grpc://${await peer.server()}`);
    });

    afterAll(async () => {
      await client?.[Symbol.asyncDispose]();
    });

    it("unary with metadata in headers and trailers", async () => {
      let headers: Record<string, unknown> = {};
      let trailers: Record<string, unknown> = {};
      const res = await client.echo(
        { text: "hi", payload: new Uint8Array([9]) },
        { metadata: { "x-k": "v" }, onHeaders: (h) => (headers = Object.fromEntries(h)), onTrailers: (t) => (trailers = Object.fromEntries(t)) },
      );
      expect(res.text).toBe("hi");
      expect([...res.payload]).toEqual([9]);
      expect(headers["x-k"]).toBe("v");
      expect(trailers["x-k"]).toBe("v");
    });

    it("server, client and bidi streaming", async () => {
      const indexes: number[] = [];
      for await (const m of client.serverStream({ text: "s", count: 4 })) indexes.push(m.index);
      expect(indexes).toEqual([0, 1, 2, 3]);
      async function* reqs() {
        yield { text: "a" };
        yield { text: "b" };
      }
      expect(await client.clientStream(reqs())).toMatchObject({ text: "ab", index: 2 });
      const bidi: string[] = [];
      for await (const m of client.bidi(reqs())) bidi.push(`${m.text}${m.index}`);
      expect(bidi).toEqual(["a0", "b1"]);
    });

    it("status codes with non-ASCII messages, deadlines and a large stream", async () => {
      const err = await rejection(client.echo({ text: "verboten ✗", failCode: Code.PERMISSION_DENIED }));
      expect(err).toBeInstanceOf(FerryError);
      expect(err).toMatchObject({ code: Code.PERMISSION_DENIED, rawMessage: "verboten ✗" });
      expect(await rejection(client.echo({ delayMs: 3000 }, { timeoutMs: 200 }))).toMatchObject({ code: Code.DEADLINE_EXCEEDED });
      let bytes = 0;
      for await (const m of client.serverStream({ count: 500, payload: new Uint8Array(64 * 1024) })) bytes += m.payload.length;
      expect(bytes).toBe(500 * 64 * 1024);
    }, 60_000);
  });
});
