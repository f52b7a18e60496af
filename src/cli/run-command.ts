import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { loadTopology } from "../topology/load-topology.js";
import { formatReady } from "../topology/ready-line.js";
import { runTopology, type RunningGroup } from "../topology/run-topology.js";
import { spawnGroup, type GroupProcess } from "../topology/spawn-group.js";
import type { TopologyConfig } from "../topology/topology-config.js";
import type { CliIo, CommandInstaller } from "./program.js";

const EXAMPLES = `
Examples:
  $ ferry run examples/shop/topology/one-process.yaml
  $ ferry run examples/shop/topology/processes.yaml                     # every group, one child process per replica
  $ HOST_IP=10.0.0.12 ferry run shop.yaml --group checkout              # one group, e.g. on its own host

With --group (or a topology of one group) the group runs in this process; without, every
group's replicas run as child processes (ferry run CONFIG --group G), their output prefixed
with the group's name. Once serving, each process writes one line
  ferry-run {"event":"ready","group":…,"addresses":[{"url":…,"listenUrl":…}],"httpUrl":…}
SIGINT or SIGTERM stops it: the HTTP API stops, registrations go, in-flight calls finish
(the topology's drainMs), then it exits 0. See docs/deployment.md.
Exit status: 3 INVALID_ARGUMENT (bad topology, naming the path), 5 NOT_FOUND (no such file or
service module), 14 UNAVAILABLE (registry, broker or store unreachable; address in use), 2 bad usage.`;

/** Flags of `ferry run`. */
interface RunFlags {
  readonly group?: string;
}

/** Installs `ferry run CONFIG [--group NAME]`: starts a topology's process group, or all of them. */
export const installRunCommand: CommandInstaller = (program, io) => {
  program
    .command("run")
    .description("run a topology (docs/deployment.md): one process group here, or every group as child processes")
    .argument("<config>", "topology file: .yaml, .yml, .json, or a .ts/.js module exporting the config")
    .option("--group <name>", "the process group to run in this process")
    .addHelpText("after", EXAMPLES)
    .action((config: string, flags: RunFlags) => runCommand(io, config, flags));
};

async function runCommand(io: CliIo, file: string, flags: RunFlags): Promise<void> {
  const config = await loadTopology(file);
  const groups = Object.keys(config.groups);
  if (flags.group !== undefined || groups.length === 1) return runGroup(io, config, flags.group ?? groups[0]!);
  return launchAll(io, file, config);
}

/** An EADDRINUSE from a listener as UNAVAILABLE naming the address. */
function listenError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.code !== "EADDRINUSE" && e.code !== "EADDRNOTAVAIL" && e.code !== "EACCES") return err;
  return new FerryError(Code.UNAVAILABLE, `cannot listen on ${e.address ?? "?"}:${e.port ?? "?"}: ${e.code}`, { cause: err });
}

async function runGroup(io: CliIo, config: TopologyConfig, group: string): Promise<void> {
  for (const [k, v] of Object.entries(config.groups[group]?.env ?? {})) process.env[k] ??= v;
  const running = await runTopology(config, { group }).catch((err: unknown) => {
    throw listenError(err);
  });
  io.stdout.write(`${describeGroup(running)}\n${formatReady(running)}\n`);
  await untilStopped();
  io.stderr.write(`${config.name}/${group}: stopping (deregistering, finishing in-flight calls)…\n`);
  await running.close();
}

function describeGroup(g: RunningGroup): string {
  const lines = [`${g.topology}/${g.group} (pid ${process.pid}) runs ${g.services.join(", ") || "no service"}`];
  for (const a of g.addresses) lines.push(`  ${a.transport.padEnd(6)} ${a.url}${a.listenUrl !== undefined && a.listenUrl !== a.url ? `  (listening on ${a.listenUrl})` : ""}`);
  if (g.httpUrl !== undefined) lines.push(`  http   ${g.httpUrl}`);
  if (g.metricsUrl !== undefined) lines.push(`  metrics ${g.metricsUrl}`);
  return lines.join("\n");
}

/** Resolves on the first SIGINT or SIGTERM, or when the parent that started this process with an IPC channel goes away. */
function untilStopped(): Promise<void> {
  // A group with no listener (consumers only) has nothing else keeping the event loop alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  return new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
    if (process.send !== undefined) process.once("disconnect", () => resolve());
  }).finally(() => clearInterval(keepAlive));
}

async function launchAll(io: CliIo, file: string, config: TopologyConfig): Promise<void> {
  const plan = Object.entries(config.groups).flatMap(([group, g]) =>
    Array.from({ length: g.replicas ?? 1 }, (_, i) => ({ group, name: (g.replicas ?? 1) > 1 ? `${group}-${i + 1}` : group, env: { ...g.env, FERRY_REPLICA: String(i) } })),
  );
  const width = Math.max(...plan.map((p) => p.name.length));
  io.stdout.write(`starting ${plan.length} processes of topology ${config.name}…\n`);
  let stopping = false;
  const results = await Promise.allSettled(
    plan.map(async (p) => {
      const proc = await spawnGroup({ configFile: file, group: p.group, env: p.env, detached: true, onLine: (line) => io.stdout.write(`${p.name.padEnd(width)} | ${line}\n`) });
      void proc.exited.then((how) => stopping || io.stderr.write(`${p.name} exited (${String(how)}); the other processes keep running\n`));
      return proc;
    }),
  );
  const running = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed === undefined) {
    io.stdout.write(`${summary(config, running)}\n`);
    await untilStopped();
  }
  stopping = true;
  io.stderr.write(`stopping ${running.length} processes…\n`);
  await Promise.all(running.map((p) => p.stop()));
  if (failed !== undefined) throw failed.reason;
}

function summary(config: TopologyConfig, running: readonly GroupProcess[]): string {
  const lines = [`topology ${config.name} is running: ${running.length} processes`];
  for (const p of running) {
    const where = [...p.ready.addresses.map((a) => a.url), ...(p.ready.httpUrl === undefined ? [] : [p.ready.httpUrl])].join("  ");
    lines.push(`  ${p.group.padEnd(12)} pid ${String(p.ready.pid).padEnd(7)} ${where}`);
  }
  lines.push("Ctrl-C stops every process (deregister, drain, exit).");
  return lines.join("\n");
}
