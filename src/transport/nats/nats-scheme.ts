import type { TransportFactory } from "../../rpc/transport-registry.js";
import { createNatsClientTransport } from "./nats-client-transport.js";
import { createNatsServerTransport } from "./nats-server-transport.js";

/**
 * `nats://[user:pass@]HOST[:PORT][?prefix=ferry.rpc]`: unary calls as NATS
 * request/reply on subjects `<prefix>.<package.Service>.<Method>`. As a
 * server address, it subscribes the server's services there (queue groups
 * share calls among instances; `?queue=` names the group prefix).
 */
export const natsScheme: TransportFactory = {
  client: (url) => createNatsClientTransport(url),
  server: (url) => createNatsServerTransport(url),
};
