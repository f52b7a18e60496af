import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EchoService } from "../../../test/gen/ferry/test/v1/echo_pb.js";
import type { BenchClient, ConnectClient } from "../../lib/contender-api.js";

/** @connectrpc/connect-node client using the gRPC protocol (HTTP/2) with the generated EchoService descriptor. */
export const connectClient: ConnectClient = async ({ address }): Promise<BenchClient> => {
  const client = createClient(EchoService, createGrpcTransport({ baseUrl: address }));
  return {
    unary: async (payload) => (await client.echo({ payload })).payload.length,
    serverStream: async (count, payload) => {
      let received = 0;
      for await (const _ of client.serverStream({ payload, count })) received++;
      return received;
    },
    close: async () => {},
  };
};
