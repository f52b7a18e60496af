import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { metrics } from "@opentelemetry/api";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { AlwaysOnSampler } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { startDashboard } from "../../../src/dashboard/index.js";
import type { StartServer } from "../../lib/contender-api.js";
import { startFerryServer } from "../../lib/ferry-contender.js";

/**
 * Ferry server on native with the dashboard attached in-process, as the
 * shop's `--dashboard-port` does: the OpenTelemetry SDK records every span
 * (AlwaysOn) into the dashboard's span processor, and a meter provider's
 * reader feeds it the metrics every 5 s; the dashboard serves its page and
 * OTLP receiver on a loopback port. The client is a plain Ferry client.
 */
export const startServer: StartServer = async ({ host }) => {
  copyPageFiles();
  const dashboard = await startDashboard({ port: 0 });
  new NodeTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [dashboard.spanProcessor] }).register();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [await dashboard.metricReader()] }));
  const server = await startFerryServer(`native://${host}:0`);
  return {
    ...server,
    async close() {
      await server.close();
      await dashboard.close();
    },
  };
};

/** The bench runs tsc's output (build/bench-js), which has no copy of the page's files; `npm run build` copies them into dist the same way. */
function copyPageFiles(): void {
  const target = fileURLToPath(new URL("../../../src/dashboard/static/", import.meta.url));
  if (!existsSync(target)) cpSync(join(process.cwd(), "src/dashboard/static"), target, { recursive: true });
}
