import { createGrpcTransport } from "../../../src/index.js";
import type { ConnectClient } from "../../lib/contender-api.js";
import { ferryBenchClient } from "../../lib/ferry-contender.js";

/** Ferry client on its grpc transport; `address` is the server's `grpc://` URL. */
export const connectClient: ConnectClient = async ({ address }) => ferryBenchClient(createGrpcTransport({ baseUrl: address }));
