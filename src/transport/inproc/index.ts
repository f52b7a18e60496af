/**
 * The in-process transport: the whole call pipeline without sockets, also
 * served as `ferry/transport/inproc`. Importing it registers `inproc://`.
 */
import { registerTransportScheme } from "../../rpc/transport-registry.js";

registerTransportScheme("inproc", () => import("./inproc-scheme.js").then((m) => m.inprocScheme));

export { createInProcessTransport } from "./inproc-transport.js";
