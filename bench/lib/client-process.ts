import { pathToFileURL } from "node:url";
import { cpuMicros, exitWhenParentGoes, maxRssKiB, send, sendFailure } from "./child-protocol.js";
import { readChildConfig, type ChildConfig } from "./child-config.js";
import type { BenchClient, BenchServer, ConnectClient, StartServer } from "./contender-api.js";
import { contenderModule } from "./contenders.js";
import { runWorkload, type RunResult } from "./load.js";
import { findWorkload } from "./workloads.js";

/**
 * Child process running one contender's client: warm-up, then the timed
 * runs (a `warm` message between them), then one `result` message with
 * this process's CPU time over the timed runs. Without `address` in its configuration
 * it first starts the contender's server in this same process (the inproc
 * contender) and reports this process's peak RSS as the server's.
 */
async function measure(client: BenchClient, config: ChildConfig): Promise<{ runs: RunResult[]; cpuMicros: number }> {
  const workload = findWorkload(config.workload);
  if (workload === undefined) throw new Error(`unknown workload ${config.workload}`);
  await runWorkload(client, workload, config.warmupSeconds);
  send({ type: "warm" });
  const cpu0 = cpuMicros();
  const runs: RunResult[] = [];
  for (let i = 0; i < config.runs; i++) runs.push(await runWorkload(client, workload, config.seconds));
  return { runs, cpuMicros: cpuMicros() - cpu0 };
}

async function main(): Promise<void> {
  const config = readChildConfig();
  exitWhenParentGoes();
  let server: BenchServer | undefined;
  if (config.address === undefined) {
    const serverMod = (await import(pathToFileURL(contenderModule(config.contender, "server")).href)) as { startServer: StartServer };
    server = await serverMod.startServer({ host: "127.0.0.1", socketDir: config.socketDir });
  }
  const clientMod = (await import(pathToFileURL(contenderModule(config.contender, "client")).href)) as { connectClient: ConnectClient };
  const client = await clientMod.connectClient({ address: config.address ?? server!.address, local: server?.local });
  const { runs, cpuMicros: used } = await measure(client, config);
  const closeTimeout = new Promise((resolve) => setTimeout(resolve, 2000).unref());
  await Promise.race([Promise.all([client.close(), server?.close()]), closeTimeout]);
  send({ type: "result", runs, cpuMicros: used, ...(server !== undefined ? { maxRssKiB: maxRssKiB() } : {}) });
  process.exit(0);
}

main().catch((err: unknown) => {
  sendFailure(err);
  process.exit(1);
});
