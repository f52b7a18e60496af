import type { StartServer } from "../../lib/contender-api.js";
import { startFerryServer } from "../../lib/ferry-contender.js";

/** Ferry server on grpc, with the built-in telemetry interceptors turned off (`telemetry: false` on both sides): the pipeline as it was before observability. */
export const startServer: StartServer = ({ host }) => startFerryServer(`grpc://${host}:0`, { telemetry: false });
