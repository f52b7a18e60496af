import type { ConnectClient } from "../../lib/contender-api.js";
import { connectFerryUrl } from "../../lib/ferry-contender.js";

/** Ferry client on its native transport; `address` is the server's `native://` URL. */
export const connectClient: ConnectClient = ({ address }) => connectFerryUrl(address);
