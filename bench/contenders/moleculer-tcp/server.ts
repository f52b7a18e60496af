import { Readable } from "node:stream";
import { ServiceBroker } from "moleculer";
import type { BenchServer, StartServer } from "../../lib/contender-api.js";
import { freePort, type JsonEcho } from "../../lib/json-echo.js";

/**
 * Makes a broker advertise 127.0.0.1 as its address: Moleculer's TCP
 * transporter otherwise tells peers the machine's first non-loopback
 * address, and the bench talks to loopback only.
 */
export function loopbackOnly(broker: ServiceBroker): void {
  const local = (broker.registry as unknown as { nodes: { localNode: { ipList: string[]; hostname: string } } }).nodes.localNode;
  local.ipList = ["127.0.0.1"];
  local.hostname = "127.0.0.1";
}

/** The server broker's node id; the client names it in its static TCP address list. */
export const SERVER_NODE_ID = "bench-server";

/**
 * Moleculer, TCP transporter (JSON serializer, no UDP discovery: the client
 * is given the server's address), one service `echo` with two actions:
 * `echo` returns its params, `stream` returns an object-mode stream of
 * `count` messages (Moleculer 0.15 sends one STREAM packet per object).
 */
export const startServer: StartServer = async ({ host }): Promise<BenchServer> => {
  const port = await freePort(host);
  const broker = new ServiceBroker({
    nodeID: SERVER_NODE_ID,
    transporter: { type: "TCP", options: { udpDiscovery: false, port } },
    logger: false,
    metrics: false,
    tracing: false,
  });
  loopbackOnly(broker);
  broker.createService({
    name: "echo",
    actions: {
      echo: (ctx) => ctx.params as JsonEcho,
      stream: (ctx) => {
        const { payload, count = 0 } = ctx.params as JsonEcho;
        let left = count;
        return new Readable({
          objectMode: true,
          read() {
            while (left > 0) {
              left--;
              if (!this.push({ payload })) return;
            }
            this.push(null);
          },
        });
      },
    },
  });
  await broker.start();
  return { address: `${host}:${port}`, close: () => broker.stop() };
};
