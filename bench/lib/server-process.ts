import { pathToFileURL } from "node:url";
import { cpuMicros, exitWhenParentGoes, maxRssKiB, send, sendFailure } from "./child-protocol.js";
import { readChildConfig } from "./child-config.js";
import type { BenchServer, StartServer } from "./contender-api.js";
import { contenderModule } from "./contenders.js";

/**
 * Child process running one contender's server. Prints `ready` with the
 * address; on `cpu` (stdin) prints its CPU time; on `stop` closes the server, prints `stopped` with
 * its peak RSS and CPU time, and exits.
 */
async function main(): Promise<void> {
  const config = readChildConfig();
  const state: { server?: BenchServer } = {};
  exitWhenParentGoes((line) => {
    if (line.trim() === "cpu") return send({ type: "cpu", micros: cpuMicros() });
    if (line.trim() !== "stop") return;
    const cpu = cpuMicros();
    const rss = maxRssKiB();
    const closing = state.server?.close() ?? Promise.resolve();
    const timeout = new Promise((resolve) => setTimeout(resolve, 2000).unref());
    void Promise.race([closing, timeout]).finally(() => {
      send({ type: "stopped", maxRssKiB: rss, cpuMicros: cpu });
      process.exit(0);
    });
  });
  const mod = (await import(pathToFileURL(contenderModule(config.contender, "server")).href)) as { startServer: StartServer };
  const server = await mod.startServer({ host: "127.0.0.1", socketDir: config.socketDir });
  state.server = server;
  send({ type: "ready", address: server.address });
}

main().catch((err: unknown) => {
  sendFailure(err);
  process.exit(1);
});
