import type { TransportFactory } from "../../rpc/transport-registry.js";
import { createInProcessTransport } from "./inproc-transport.js";
import { createInProcessServerTransport, findInProcessRouter } from "./inproc-registry.js";

/** `inproc://NAME`: a server in this process, registered under NAME by `server.listen("inproc://NAME")`. */
export const inprocScheme: TransportFactory = {
  client: (url) => createInProcessTransport(findInProcessRouter(url.host)),
  server: (url) => createInProcessServerTransport(url.host),
};
