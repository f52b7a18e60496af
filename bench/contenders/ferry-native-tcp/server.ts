import type { StartServer } from "../../lib/contender-api.js";
import { startFerryServer } from "../../lib/ferry-contender.js";

/** Ferry server on its native transport over TCP (`native://`); skipped as not available while that scheme is not registered. */
export const startServer: StartServer = ({ host }) => startFerryServer(`native://${host}:0`);
