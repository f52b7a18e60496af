import type { StartServer } from "../../lib/contender-api.js";
import { startFerryServer } from "../../lib/ferry-contender.js";

/**
 * Ferry server for the in-process contender without the implicit call
 * context: handlers do not run inside AsyncLocalStorage, so Node 20 never
 * turns its promise hooks on (see ServerOptions.implicitCallContext).
 */
export const startServer: StartServer = () => startFerryServer(`inproc://bench-explicit-${process.pid}`, { implicitCallContext: false });
