import { credentials, type Client, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import type { BenchClient, ConnectClient } from "../../lib/contender-api.js";
import { loadEchoService, type GrpcJsEcho } from "../../lib/grpc-js-service.js";

/** @grpc/grpc-js client of EchoService over one channel. */

interface EchoClient extends Client {
  Echo(request: GrpcJsEcho, callback: (err: ServiceError | null, response?: GrpcJsEcho) => void): void;
  ServerStream(request: GrpcJsEcho): ClientReadableStream<GrpcJsEcho>;
}

export const connectClient: ConnectClient = async ({ address }): Promise<BenchClient> => {
  const EchoService = loadEchoService();
  const client = new EchoService(address, credentials.createInsecure()) as unknown as EchoClient;
  return {
    unary: (payload) =>
      new Promise((resolve, reject) => {
        client.Echo({ payload }, (err, res) => (err ? reject(err) : resolve(res?.payload?.length ?? 0)));
      }),
    serverStream: (count, payload) =>
      new Promise((resolve, reject) => {
        let received = 0;
        const call = client.ServerStream({ payload, count });
        call.on("data", () => received++);
        call.on("error", reject);
        call.on("end", () => resolve(received));
      }),
    close: async () => client.close(),
  };
};
