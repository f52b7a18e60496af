import { createClient, createServer, type ClientTransport } from "../../src/index.js";
import { EchoService } from "../../test/gen/ferry/test/v1/echo_pb.js";
import type { BenchClient, BenchServer } from "./contender-api.js";
import { echoHandlers } from "./echo-handlers.js";

/**
 * Shared code of the Ferry contenders: a Ferry server hosting EchoService
 * with default options (no interceptors), and a typed Ferry client over any
 * ClientTransport. A Ferry transport's contender is then two small files:
 * `startFerryServer("scheme://…")` and `ferryBenchClient(transport)`.
 */

/** Starts a Ferry server with EchoService listening on `url` (e.g. `grpc://127.0.0.1:0`). `local` is the Server. */
export async function startFerryServer(url: string): Promise<BenchServer> {
  const server = createServer().service(EchoService, echoHandlers);
  const address = await server.listen(url);
  return { address: address.url, local: server, close: () => server.shutdown(1000) };
}

/** A {@link BenchClient} calling EchoService through a Ferry client over `transport`. */
export function ferryBenchClient(transport: ClientTransport): BenchClient {
  const client = createClient(EchoService, transport);
  return {
    unary: async (payload) => (await client.echo({ payload })).payload.length,
    serverStream: async (count, payload) => {
      let received = 0;
      for await (const _ of client.serverStream({ payload, count })) received++;
      return received;
    },
    close: () => transport.close(),
  };
}
