import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EchoService } from "../../../test/gen/ferry/test/v1/echo_pb.js";
import type { BenchClient, ConnectClient } from "../../lib/contender-api.js";
import { echoBenchClient } from "../../lib/echo-client.js";

/** @connectrpc/connect-node client using the gRPC protocol (HTTP/2) with the generated EchoService descriptor. */
export const connectClient: ConnectClient = async ({ address }): Promise<BenchClient> => {
  return echoBenchClient(createClient(EchoService, createGrpcTransport({ baseUrl: address })), async () => {});
};
