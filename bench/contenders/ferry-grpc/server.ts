import type { StartServer } from "../../lib/contender-api.js";
import { startFerryServer } from "../../lib/ferry-contender.js";

/** Ferry server on its grpc transport (gRPC over cleartext HTTP/2). */
export const startServer: StartServer = ({ host }) => startFerryServer(`grpc://${host}:0`);
