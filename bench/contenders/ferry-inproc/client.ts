import { createInProcessTransport, Server } from "../../../src/index.js";
import type { ConnectClient } from "../../lib/contender-api.js";
import { ferryBenchClient } from "../../lib/ferry-contender.js";

/** Ferry client on the in-process transport, attached to the Server started in this same process. */
export const connectClient: ConnectClient = async ({ local }) => {
  if (!(local instanceof Server)) throw new Error("ferry-inproc needs its server in the same process");
  return ferryBenchClient(createInProcessTransport(local));
};
