import type { StartServer } from "../../lib/contender-api.js";
import { startFerryServer } from "../../lib/ferry-contender.js";

/** Ferry server for the in-process contender: served through `inproc://`, called directly by the client in the same process. */
export const startServer: StartServer = () => startFerryServer(`inproc://bench-${process.pid}`);
