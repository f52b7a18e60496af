import type { StartServer } from "../../lib/contender-api.js";
import { startFerryServer } from "../../lib/ferry-contender.js";
import { registerBenchOtel } from "../../lib/otel-contender.js";

/** Ferry server on native, with the OpenTelemetry SDK registered, recording every span and exporting in batches (see bench/lib/otel-contender.ts). */
export const startServer: StartServer = ({ host }) => {
  registerBenchOtel("record");
  return startFerryServer(`native://${host}:0`);
};
