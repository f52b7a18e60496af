import type { StartServer } from "../../lib/contender-api.js";
import { pushEchoHandlers } from "../../lib/echo-handlers.js";
import { startFerryServer } from "../../lib/ferry-contender.js";

/** Ferry server on its grpc transport, ServerStream written with pushStream. */
export const startServer: StartServer = ({ host }) => startFerryServer(`grpc://${host}:0`, {}, pushEchoHandlers);
