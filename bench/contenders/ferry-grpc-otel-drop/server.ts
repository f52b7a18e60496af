import type { StartServer } from "../../lib/contender-api.js";
import { startFerryServer } from "../../lib/ferry-contender.js";
import { registerBenchOtel } from "../../lib/otel-contender.js";

/** Ferry server on grpc, with the OpenTelemetry SDK registered and a sampler that drops every span (see bench/lib/otel-contender.ts). */
export const startServer: StartServer = ({ host }) => {
  registerBenchOtel("drop");
  return startFerryServer(`grpc://${host}:0`);
};
