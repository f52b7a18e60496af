import type { ConnectClient } from "../../lib/contender-api.js";
import { connectFerryUrl } from "../../lib/ferry-contender.js";

/** Plain Ferry client on native (the load generator); the server process has the dashboard attached. */
export const connectClient: ConnectClient = ({ address }) => connectFerryUrl(address);
