/**
 * Interop with @grpc/grpc-js, both ways: a grpc-js client calls a Ferry
 * server, and a Ferry client calls a grpc-js server.
 */
import * as grpc from "@grpc/grpc-js";
import { rejection } from "./support/rejection.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createGrpcTransport, createServer, FerryError, type Metadata, type Server } from "../src/index.js";
import { EchoService, echoImpl } from "./support/echo-service.js";
import { GrpcJsEchoClient, grpcJsUnknownCall, startGrpcJsEchoServer } from "./support/grpc-js-echo.js";

const nonAscii = "prix: 10 € — ünïcödé ✓ 100%";

describe("grpc interop: @grpc/grpc-js client → Ferry server", () => {
  let server: Server;
  let address: string;
  let client: any;

  beforeAll(async () => {
    server = createServer({ logger: { error() {}, warn() {}, info() {}, debug() {} } }).service(EchoService, echoImpl);
    const { url } = await server.listen("grpc://127.0.0.1:0");
    address = url.replace("grpc://", "");
    client = new GrpcJsEchoClient(address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await server.shutdown(100);
  });

  it("unary with text and -bin metadata, headers and trailers", async () => {
    const md = new grpc.Metadata();
    md.set("x-text", "v1");
    md.set("x-data-bin", Buffer.from([0, 1, 255]));
    let headers: grpc.Metadata | undefined;
    let status: grpc.StatusObject | undefined;
    const res = await new Promise<any>((resolve, reject) => {
      const call = client.Echo({ text: "hi", payload: Buffer.from([7]) }, md, (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r)));
      call.on("metadata", (m: grpc.Metadata) => (headers = m));
      call.on("status", (s: grpc.StatusObject) => (status = s));
    });
    expect(res.text).toBe("hi");
    expect([...res.payload]).toEqual([7]);
    expect(headers?.get("x-text")).toEqual(["v1"]);
    expect([...(headers?.get("x-data-bin")[0] as Buffer)]).toEqual([0, 1, 255]);
    await new Promise((r) => setTimeout(r, 10));
    expect(status?.code).toBe(grpc.status.OK);
    expect(status?.metadata.get("x-text")).toEqual(["v1"]);
  });

  it("server streaming", async () => {
    const got: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.ServerStream({ text: "s", count: 5 });
      call.on("data", (m: any) => got.push(m.index));
      call.on("end", resolve);
      call.on("error", reject);
    });
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it("client streaming", async () => {
    const res = await new Promise<any>((resolve, reject) => {
      const call = client.ClientStream((err: Error | null, r: unknown) => (err ? reject(err) : resolve(r)));
      for (const t of ["a", "b", "c"]) call.write({ text: t });
      call.end();
    });
    expect(res).toMatchObject({ text: "abc", index: 3 });
  });

  it("bidi streaming", async () => {
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.Bidi();
      call.on("data", (m: any) => got.push(m.text));
      call.on("end", resolve);
      call.on("error", reject);
      for (const t of ["x", "y"]) call.write({ text: t });
      call.end();
    });
    expect(got).toEqual(["x", "y"]);
  });

  it("error code and non-ASCII message", async () => {
    const err = await new Promise<grpc.ServiceError>((resolve) => client.Echo({ text: nonAscii, failCode: Code.NOT_FOUND }, (e: grpc.ServiceError) => resolve(e)));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe(nonAscii);
    expect(err.metadata.get("x-error-md")).toEqual(["present"]);
  });

  it("deadline exceeded", async () => {
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      client.Echo({ text: "slow", delayMs: 2000 }, { deadline: Date.now() + 100 }, (e: grpc.ServiceError) => resolve(e)),
    );
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it("cancellation reaches the handler", async () => {
    echoImpl.lastSignal = undefined;
    const call = client.Echo({ text: "wait", delayMs: 5000 }, () => undefined);
    await until(() => echoImpl.lastSignal !== undefined);
    call.cancel();
    await until(() => echoImpl.lastSignal!.aborted);
    expect((echoImpl.lastSignal!.reason as FerryError).code).toBe(Code.CANCELLED);
  });

  it("unknown method: UNIMPLEMENTED", async () => {
    const err = await grpcJsUnknownCall(address);
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
  });
});

describe("grpc interop: Ferry client → @grpc/grpc-js server", () => {
  let peer: Awaited<ReturnType<typeof startGrpcJsEchoServer>>;
  let transport: ReturnType<typeof createGrpcTransport>;
  let client: ReturnType<typeof createClient<typeof EchoService>>;

  beforeAll(async () => {
    peer = await startGrpcJsEchoServer();
    transport = createGrpcTransport({ baseUrl: `http://${peer.address}` });
    client = createClient(EchoService, transport);
  });
  afterAll(async () => {
    await transport.close();
    await peer.stop();
  });

  it("unary with text and -bin metadata, headers and trailers", async () => {
    let headers: Metadata | undefined;
    let trailers: Metadata | undefined;
    const res = await client.echo(
      { text: "hi", payload: new Uint8Array([1, 2]) },
      { metadata: { "x-text": "v1", "x-data-bin": new Uint8Array([0, 255]) }, onHeaders: (h) => (headers = h), onTrailers: (t) => (trailers = t) },
    );
    expect(res.text).toBe("hi");
    expect([...res.payload]).toEqual([1, 2]);
    expect(headers?.get("x-text")).toBe("v1");
    expect([...(headers?.get("x-data-bin") as Uint8Array)]).toEqual([0, 255]);
    expect(trailers?.get("x-text")).toBe("v1");
  });

  it("server streaming, client streaming and bidi", async () => {
    const got: number[] = [];
    for await (const m of client.serverStream({ text: "s", count: 4 })) got.push(m.index);
    expect(got).toEqual([0, 1, 2, 3]);
    async function* reqs() {
      yield { text: "a" };
      yield { text: "b" };
    }
    expect(await client.clientStream(reqs())).toMatchObject({ text: "ab", index: 2 });
    const out: string[] = [];
    for await (const m of client.bidi(reqs())) out.push(m.text);
    expect(out).toEqual(["a", "b"]);
  });

  it("error code, non-ASCII message and trailers", async () => {
    const err = await rejection(client.echo({ text: nonAscii, failCode: Code.PERMISSION_DENIED }));
    expect(err).toBeInstanceOf(FerryError);
    expect(err.code).toBe(Code.PERMISSION_DENIED);
    expect(err.rawMessage).toBe(nonAscii);
    expect(err.metadata.get("x-error-md")).toBe("present");
  });

  it("deadline exceeded, and the server sees the cancellation", async () => {
    const err = await rejection(client.echo({ text: "slow", delayMs: 3000 }, { timeoutMs: 100 }));
    expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
  });

  it("cancellation sends RST_STREAM to the server", async () => {
    const before = peer.cancelled();
    const ac = new AbortController();
    const pending = client.echo({ text: "wait", delayMs: 5000 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: Code.CANCELLED });
    await until(() => peer.cancelled() > before);
  });

  it("unknown method: UNIMPLEMENTED", async () => {
    const { UnknownService } = await import("./gen/ferry/test/v1/unknown_pb.js");
    const other = createClient(UnknownService, transport);
    await expect(other.ping({})).rejects.toMatchObject({ code: Code.UNIMPLEMENTED });
  });
});

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
