import { createInProcessTransport } from "../src/index.js";
import { describeTransportContract } from "./support/transport-contract.js";

describeTransportContract("inproc", async (server) => ({
  transport: createInProcessTransport(server),
  close: () => Promise.resolve(),
}));
