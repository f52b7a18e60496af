/**
 * The test EchoService as @grpc/grpc-js builds it from the same .proto: a
 * real, independent gRPC peer for interop tests.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";

const protoPath = fileURLToPath(new URL("../proto/ferry/test/v1/echo.proto", import.meta.url));

const definition = protoLoader.loadSync(protoPath, { keepCase: false, longs: String, enums: String, defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as any;

/** The grpc-js client constructor of ferry.test.v1.EchoService. */
export const GrpcJsEchoClient: typeof grpc.Client & (new (address: string, creds: grpc.ChannelCredentials) => any) = loaded.ferry.test.v1.EchoService;

/** The grpc-js client constructor of ferry.test.v1.UnknownService-less paths: calls an undefined method. */
export function grpcJsUnknownCall(address: string): Promise<grpc.ServiceError> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      "/ferry.test.v1.EchoService/Nope",
      (x: Buffer) => x,
      (x: Buffer) => x,
      Buffer.alloc(0),
      (err) => {
        client.close();
        resolve(err as grpc.ServiceError);
      },
    );
  });
}

type Req = { text: string; payload: Buffer; count: number; delayMs: number; failCode: number };

function copyMetadata(from: grpc.Metadata): grpc.Metadata {
  const out = new grpc.Metadata();
  for (const [k, v] of Object.entries(from.getMap())) if (k.startsWith("x-")) out.set(k, v as grpc.MetadataValue);
  return out;
}

/** Starts a grpc-js server implementing EchoService like test/support/echo-service.ts. */
export async function startGrpcJsEchoServer(): Promise<{ address: string; cancelled: () => number; stop(): Promise<void> }> {
  const server = new grpc.Server();
  let cancelled = 0;
  const fail = (req: Req) => (req.failCode ? { code: req.failCode, details: req.text, metadata: (() => { const m = new grpc.Metadata(); m.set("x-error-md", "present"); return m; })() } : null);
  server.addService(loaded.ferry.test.v1.EchoService.service, {
    Echo(call: any, cb: any) {
      call.sendMetadata(copyMetadata(call.metadata));
      const req = call.request as Req;
      const timer = setTimeout(() => {
        const f = fail(req);
        if (f) return cb(f);
        cb(null, { text: req.text, payload: req.payload }, copyMetadata(call.metadata));
      }, req.delayMs);
      call.on("cancelled", () => {
        cancelled++;
        clearTimeout(timer);
      });
    },
    ServerStream(call: any) {
      const req = call.request as Req;
      for (let i = 0; i < req.count; i++) call.write({ text: req.text, index: i });
      const f = fail(req);
      if (f) return call.emit("error", f);
      call.end();
    },
    ClientStream(call: any, cb: any) {
      let text = "";
      let n = 0;
      call.on("data", (r: Req) => {
        text += r.text;
        n++;
      });
      call.on("end", () => cb(null, { text, index: n }));
    },
    Bidi(call: any) {
      let i = 0;
      call.on("data", (r: Req) => call.write({ text: r.text, index: i++ }));
      call.on("end", () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    cancelled: () => cancelled,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
