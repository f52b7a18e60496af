import type { StartServer } from "../../lib/contender-api.js";
import { pushEchoHandlers } from "../../lib/echo-handlers.js";
import { startFerryServer } from "../../lib/ferry-contender.js";

/** Ferry server on its native transport over TCP, ServerStream written with pushStream. */
export const startServer: StartServer = ({ host }) => startFerryServer(`native://${host}:0`, {}, pushEchoHandlers);
