import { join } from "node:path";
import type { StartServer } from "../../lib/contender-api.js";
import { startFerryServer } from "../../lib/ferry-contender.js";

/** Ferry server on its native transport over a Unix domain socket in the run's temporary directory (`native+unix://`). */
export const startServer: StartServer = ({ socketDir }) => startFerryServer(`native+unix://${join(socketDir, `ferry-${process.pid}.sock`)}`);
