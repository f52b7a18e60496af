/**
 * The standard gRPC health (grpc.health.v1) and server reflection
 * (grpc.reflection.v1 and v1alpha) services on a Ferry server over gRPC.
 */
import { create, createFileRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, type Server } from "../src/index.js";
import { Health, HealthCheckRequestSchema, HealthCheckResponseSchema } from "../src/gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../src/gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../src/gen/grpc/reflection/v1alpha/reflection_pb.js";
import { addHealthService, addReflectionService, createGrpcTransport, ServingStatus, type GrpcTransport, type HealthStatus } from "../src/transport/grpc/index.js";
import { AsyncQueue } from "../src/util/async-queue.js";
import { EchoService, echoImpl } from "./support/echo-service.js";
import { rejection } from "./support/rejection.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

describe("grpc health service", () => {
  let server: Server;
  let health: HealthStatus;
  let transport: GrpcTransport;
  let url: string;

  beforeAll(async () => {
    server = createServer({ logger: quiet }).service(EchoService, echoImpl);
    health = addHealthService(server);
    ({ url } = await server.listen("grpc://127.0.0.1:0"));
    transport = createGrpcTransport({ baseUrl: url });
  });
  afterAll(async () => {
    await transport.close();
    await server.shutdown(100);
  });

  describe("Check()", () => {
    it("reports SERVING for the server and each registered service", async () => {
      const client = createClient(Health, transport);
      expect((await client.check({ service: "" })).status).toBe(ServingStatus.SERVING);
      expect((await client.check({ service: "ferry.test.v1.EchoService" })).status).toBe(ServingStatus.SERVING);
    });

    it("fails with NOT_FOUND for an unknown service", async () => {
      const err = await rejection(createClient(Health, transport).check({ service: "no.such.Service" }));
      expect(err.code).toBe(Code.NOT_FOUND);
    });

    it("reports a status set per service", async () => {
      health.set("ferry.test.v1.EchoService", ServingStatus.NOT_SERVING);
      expect((await createClient(Health, transport).check({ service: "ferry.test.v1.EchoService" })).status).toBe(ServingStatus.NOT_SERVING);
      expect((await createClient(Health, transport).check({ service: "" })).status).toBe(ServingStatus.SERVING);
      health.set("ferry.test.v1.EchoService", ServingStatus.SERVING);
    });

    it("answers a @grpc/grpc-js client", async () => {
      const client = new grpc.Client(url.replace("grpc://", ""), grpc.credentials.createInsecure());
      const res = await new Promise<any>((resolve, reject) =>
        client.makeUnaryRequest("/grpc.health.v1.Health/Check", (m: object) => Buffer.from(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, m))),
          (b: Buffer) => fromBinary(HealthCheckResponseSchema, b), { service: "" }, (e, r) => (e ? reject(e) : resolve(r))));
      client.close();
      expect(res.status).toBe(ServingStatus.SERVING);
    });
  });

  describe("Watch()", () => {
    it("sends SERVICE_UNKNOWN for an unknown service without failing", async () => {
      const ac = new AbortController();
      const it = createClient(Health, transport).watch({ service: "later.Service" }, { signal: ac.signal })[Symbol.asyncIterator]();
      expect((await it.next()).value?.status).toBe(ServingStatus.SERVICE_UNKNOWN);
      health.set("later.Service", ServingStatus.SERVING);
      expect((await it.next()).value?.status).toBe(ServingStatus.SERVING);
      ac.abort();
    });

    it("sends the current status, each change, then NOT_SERVING when the server starts draining", async () => {
      const s = createServer({ logger: quiet }).service(EchoService, echoImpl);
      const h = addHealthService(s);
      const { url: u } = await s.listen("grpc://127.0.0.1:0");
      const t = createGrpcTransport({ baseUrl: u });
      const seen: ServingStatus[] = [];
      const it = createClient(Health, t).watch({ service: "ferry.test.v1.EchoService" })[Symbol.asyncIterator]();
      seen.push((await it.next()).value!.status);
      h.set("ferry.test.v1.EchoService", ServingStatus.NOT_SERVING);
      seen.push((await it.next()).value!.status);
      h.set("ferry.test.v1.EchoService", ServingStatus.SERVING);
      seen.push((await it.next()).value!.status);
      const stopping = s.shutdown(200);
      seen.push((await it.next()).value!.status);
      expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
      expect(h.get("")).toBe(ServingStatus.NOT_SERVING);
      await it.return?.();
      await stopping;
      await t.close();
    });
  });
});

describe("grpc server reflection", () => {
  let server: Server;
  let transport: GrpcTransport;

  beforeAll(async () => {
    server = createServer({ logger: quiet }).service(EchoService, echoImpl);
    addHealthService(server);
    addReflectionService(server);
    const { url } = await server.listen("grpc://127.0.0.1:0");
    transport = createGrpcTransport({ baseUrl: url });
  });
  afterAll(async () => {
    await transport.close();
    await server.shutdown(100);
  });

  for (const [version, service] of [["v1", ReflectionV1], ["v1alpha", ReflectionV1alpha]] as const) {
    describe(`${version} ServerReflectionInfo()`, () => {
      async function ask(requests: object[]): Promise<any[]> {
        const q = new AsyncQueue<object>();
        const out: any[] = [];
        const it = (createClient(service as typeof ReflectionV1, transport).serverReflectionInfo(q as never) as AsyncIterable<any>)[Symbol.asyncIterator]();
        for (const r of requests) {
          q.push(r);
          out.push((await it.next()).value);
        }
        q.end();
        expect((await it.next()).done).toBe(true);
        return out;
      }

      it("lists every service", async () => {
        const [res] = await ask([{ messageRequest: { case: "listServices", value: "" } }]);
        expect(res.messageResponse.value.service.map((s: { name: string }) => s.name).sort()).toEqual([
          "ferry.test.v1.EchoService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
        ]);
      });

      it("returns the file containing a service or method symbol, with its dependencies, usable as a registry", async () => {
        const answers = await ask([
          { messageRequest: { case: "fileContainingSymbol", value: "ferry.test.v1.EchoService" } },
          { messageRequest: { case: "fileContainingSymbol", value: "ferry.test.v1.EchoService.Echo" } },
          { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.ServingStatus" } },
        ]);
        for (const a of answers) expect(a.messageResponse.case).toBe("fileDescriptorResponse");
        const files = answers[0].messageResponse.value.fileDescriptorProto.map((b: Uint8Array) => fromBinary(FileDescriptorProtoSchema, b));
        expect(files[0].name).toBe("ferry/test/v1/echo.proto");
        const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
        expect(registry.getService("ferry.test.v1.EchoService")?.methods.map((m) => m.name)).toEqual(["Echo", "ServerStream", "ClientStream", "Bidi"]);
        expect(registry.getMessage("ferry.test.v1.EchoRequest")?.fields.map((f) => f.name)).toContain("delay_ms");
        const health = fromBinary(FileDescriptorProtoSchema, answers[2].messageResponse.value.fileDescriptorProto[0]);
        expect(health.name).toBe("grpc/health/v1/health.proto");
      });

      it("returns a file by name", async () => {
        const [res] = await ask([{ messageRequest: { case: "fileByFilename", value: "grpc/health/v1/health.proto" } }]);
        const file = fromBinary(FileDescriptorProtoSchema, res.messageResponse.value.fileDescriptorProto[0]);
        expect(file.service[0].name).toBe("Health");
        expect(res.originalRequest.messageRequest).toEqual({ case: "fileByFilename", value: "grpc/health/v1/health.proto" });
      });

      it("answers an unknown symbol with NOT_FOUND and keeps the stream open", async () => {
        const [bad, good] = await ask([
          { messageRequest: { case: "fileContainingSymbol", value: "no.such.Thing" } },
          { messageRequest: { case: "allExtensionNumbersOfType", value: "ferry.test.v1.EchoRequest" } },
        ]);
        expect(bad.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: Code.NOT_FOUND } });
        expect(good.messageResponse).toMatchObject({ case: "allExtensionNumbersResponse", value: { baseTypeName: "ferry.test.v1.EchoRequest", extensionNumber: [] } });
      });
    });
  }
});
