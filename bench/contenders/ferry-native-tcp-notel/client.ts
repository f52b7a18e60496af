import type { ConnectClient } from "../../lib/contender-api.js";
import { connectFerryUrl } from "../../lib/ferry-contender.js";

/** Ferry client on native without the telemetry interceptor (`telemetry: false`). */
export const connectClient: ConnectClient = ({ address }) => connectFerryUrl(address, { telemetry: false });
