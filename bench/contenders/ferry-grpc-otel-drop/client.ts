import type { ConnectClient } from "../../lib/contender-api.js";
import { connectFerryUrl } from "../../lib/ferry-contender.js";
import { registerBenchOtel } from "../../lib/otel-contender.js";

/** Ferry client on grpc, with the OpenTelemetry SDK registered and a sampler that drops every span (see bench/lib/otel-contender.ts). */
export const connectClient: ConnectClient = ({ address }) => {
  registerBenchOtel("drop");
  return connectFerryUrl(address);
};
