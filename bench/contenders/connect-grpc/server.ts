import { createServer } from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { EchoService } from "../../../test/gen/ferry/test/v1/echo_pb.js";
import type { BenchServer, StartServer } from "../../lib/contender-api.js";
import { echoHandlers } from "../../lib/echo-handlers.js";
import { closeServer, listenServer } from "../../lib/net-server.js";

/** @connectrpc/connect-node server on cleartext HTTP/2 (serves gRPC among its protocols) with the generated EchoService descriptor. */
export const startServer: StartServer = async ({ host }): Promise<BenchServer> => {
  const server = createServer(connectNodeAdapter({ routes: (router) => router.service(EchoService, echoHandlers) }));
  const port = await listenServer(server, host);
  return { address: `http://${host}:${port}`, close: () => closeServer(server) };
};
