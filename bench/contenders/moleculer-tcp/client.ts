import type { Readable } from "node:stream";
import { ServiceBroker } from "moleculer";
import type { BenchClient, ConnectClient } from "../../lib/contender-api.js";
import { base64Bytes, toBase64, type JsonEcho } from "../../lib/json-echo.js";
import { loopbackOnly, SERVER_NODE_ID } from "./server.js";

/** A Moleculer broker with the TCP transporter pointed at the server node: `broker.call("echo.echo")` per call; `echo.stream` counted to its end. */
export const connectClient: ConnectClient = async ({ address }): Promise<BenchClient> => {
  const broker = new ServiceBroker({
    nodeID: "bench-client",
    transporter: { type: "TCP", options: { udpDiscovery: false, urls: `${address}/${SERVER_NODE_ID}` } },
    logger: false,
    metrics: false,
    tracing: false,
  });
  loopbackOnly(broker);
  await broker.start();
  await broker.waitForServices(["echo"], 30_000);
  return {
    unary: async (payload) => base64Bytes(((await broker.call("echo.echo", { payload: toBase64(payload) })) as JsonEcho).payload),
    serverStream: async (n, payload) => {
      const stream = (await broker.call("echo.stream", { payload: toBase64(payload), count: n })) as Readable;
      let got = 0;
      for await (const m of stream) if ((m as JsonEcho).payload.length > 0) got++;
      return got;
    },
    close: () => broker.stop(),
  };
};
