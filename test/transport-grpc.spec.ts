import { createGrpcTransport } from "../src/index.js";
import { describeTransportContract } from "./support/transport-contract.js";

describeTransportContract("grpc", async (server) => {
  const { url } = await server.listen("grpc://127.0.0.1:0");
  const transport = createGrpcTransport({ baseUrl: url });
  return { transport, close: () => transport.close() };
});
