import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from "@grpc/grpc-js";
import type { BenchServer, StartServer } from "../../lib/contender-api.js";
import { loadEchoService, type GrpcJsEcho } from "../../lib/grpc-js-service.js";
import { waitForDrain } from "../../lib/net-server.js";

/** @grpc/grpc-js server with EchoService: Echo returns the payload; ServerStream writes `count` responses, honouring backpressure. */

async function serverStream(call: ServerWritableStream<GrpcJsEcho, GrpcJsEcho>): Promise<void> {
  const { payload, count = 0 } = call.request;
  for (let i = 0; i < count && !call.cancelled; i++) {
    if (!call.write({ payload, index: i })) await waitForDrain(call, ["cancelled", "error"]);
  }
  call.end();
}

export const startServer: StartServer = async ({ host }): Promise<BenchServer> => {
  const server = new Server();
  server.addService(loadEchoService().service, {
    Echo: (call: ServerUnaryCall<GrpcJsEcho, GrpcJsEcho>, callback: sendUnaryData<GrpcJsEcho>) => callback(null, { payload: call.request.payload }),
    ServerStream: (call: ServerWritableStream<GrpcJsEcho, GrpcJsEcho>) => void serverStream(call),
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { address: `${host}:${port}`, close: async () => server.forceShutdown() };
};
