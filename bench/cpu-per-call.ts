/**
 * CPU time per call on each side of a contender: its server pinned to core 0,
 * its client to core 1, each in its own process; `process.cpuUsage()` around
 * the timed part. CPU µs/call is robust to other load on a shared machine,
 * where calls/s is not, so it is the figure to compare when tuning a transport.
 *
 *   npx tsx bench/cpu-per-call.ts --contender=raw-h2,ferry-grpc [--workload=unary-64|unary-seq|stream] [--calls=30000] [--prof]
 *
 * `--prof` profiles both processes around the timed calls, writes the V8
 * CPU profiles into /tmp/ferry-prof (open them in Chrome DevTools) and
 * prints where each side's µs per call go, by origin (Ferry's rooms,
 * protobuf-es, node:http2, GC, …). `npm run bench:cpu -- …` is the same.
 * Needs `taskset` (util-linux); without it the processes are not pinned.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { BenchClient, BenchServer } from "./lib/contender-api.js";
import { compileBench, compiledPath } from "./lib/compiled.js";
import { startCpuProfile, summarizeCpuProfile } from "./lib/cpu-profile.js";
import { contenderModule, findContender } from "./lib/contenders.js";
import { STREAM_MESSAGES_PER_CALL } from "./lib/workloads.js";

/** Workloads (as in bench/lib/workloads.ts, 100-byte payloads): calls in flight; `stream` calls return STREAM_MESSAGES_PER_CALL messages each. */
const WORKLOADS: Record<string, { inFlight: number; stream: boolean }> = {
  "unary-64": { inFlight: 64, stream: false },
  "unary-seq": { inFlight: 1, stream: false },
  stream: { inFlight: 1, stream: true },
};
const PAYLOAD = new Uint8Array(100);
const SELF = fileURLToPath(import.meta.url);
const PROF_DIR = "/tmp/ferry-prof";

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const profiling = process.argv.includes("--prof");
const profilePath = (name: string, workload: string, role: string): string => `${PROF_DIR}/${name}-${workload}-${role}.cpuprofile`;

/**
 * Server role: starts the contender, prints its address, then prints its CPU
 * time on each line read from stdin (with `--prof`, profiling between the first and second line).
 */
async function serve(name: string, workload: string): Promise<void> {
  const { startServer } = (await import(contenderModule(name, "server"))) as { startServer: (o: object) => Promise<BenchServer> };
  const server = await startServer({ host: "127.0.0.1", socketDir: "/tmp" });
  console.log(JSON.stringify({ address: server.address }));
  process.on("SIGINT", () => void server.close().finally(() => process.exit(0)));
  let stopProfile: (() => Promise<void>) | undefined;
  let lines = 0;
  process.stdin.on("data", () => {
    const cpu = cpuMicros();
    void (async () => {
      if (profiling && ++lines === 1) stopProfile = await startCpuProfile(profilePath(name, workload, "server"));
      else await stopProfile?.();
      console.log(JSON.stringify({ cpu }));
    })();
  });
}

async function runLoad(client: BenchClient, workload: string, calls: number): Promise<void> {
  const { inFlight, stream } = WORKLOADS[workload];
  let left = calls;
  const one = stream ? () => client.serverStream(STREAM_MESSAGES_PER_CALL, PAYLOAD) : () => client.unary(PAYLOAD);
  await Promise.all(Array.from({ length: inFlight }, async () => { while (left-- > 0) await one(); }));
}

/** Client role: warms up, runs `calls` calls, prints its CPU µs per call (per message for `stream`) and calls/s. */
async function drive(name: string, address: string, workload: string, calls: number): Promise<void> {
  const { connectClient } = (await import(contenderModule(name, "client"))) as { connectClient: (o: object) => Promise<BenchClient> };
  const client = await connectClient({ address });
  await runLoad(client, workload, Math.ceil(calls / 5));
  const stopProfile = profiling ? await startCpuProfile(profilePath(name, workload, "client")) : undefined;
  const c0 = cpuMicros();
  const t0 = performance.now();
  await runLoad(client, workload, calls);
  const seconds = (performance.now() - t0) / 1000;
  const clientMicros = cpuMicros() - c0;
  await stopProfile?.();
  const units = WORKLOADS[workload].stream ? calls * STREAM_MESSAGES_PER_CALL : calls;
  console.log(JSON.stringify({ clientMicros, units, perSecond: units / seconds }));
  await client.close();
  process.exit(0);
}

function pinned(core: number, args: string[]): [string, string[]] {
  const node = [compiledPath(SELF), ...args, ...(profiling ? ["--prof"] : [])];
  return hasTaskset ? ["taskset", ["-c", String(core), process.execPath, ...node]] : [process.execPath, node];
}

const hasTaskset = spawnSync("taskset", ["--version"]).status === 0;

/** Runs one contender: server and client processes; prints one result line. */
async function measure(name: string, workload: string, calls: number): Promise<void> {
  if (profiling) mkdirSync(PROF_DIR, { recursive: true });
  const srv = spawn(...pinned(0, ["--role=server", `--contender=${name}`, `--workload=${workload}`]), { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: srv.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string) as Record<string, number | string>;
  const { address } = await next();
  srv.stdin!.write("x\n");
  const s0 = (await next()).cpu as number;
  const cli = spawn(...pinned(1, ["--role=client", `--contender=${name}`, `--address=${address}`, `--workload=${workload}`, `--calls=${calls}`]), { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  cli.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise((r) => cli.once("exit", r));
  srv.stdin!.write("x\n");
  const s1 = (await next()).cpu as number;
  srv.kill("SIGINT");
  if (code !== 0) throw new Error(`${name}: client exited with ${String(code)}`);
  const r = JSON.parse(out.trim().split("\n").pop()!) as { clientMicros: number; units: number; perSecond: number };
  // The server's window also covers the client's warm-up (a fifth of the calls).
  const serverUnits = r.units * 1.2;
  const unit = WORKLOADS[workload].stream ? "msg" : "call";
  const serverPer = (s1 - s0) / serverUnits;
  const clientPer = r.clientMicros / r.units;
  console.log(
    `${name.padEnd(18)} ${workload.padEnd(9)} server ${serverPer.toFixed(1).padStart(6)} µs/${unit}  client ${clientPer.toFixed(1).padStart(6)} µs/${unit}  wall ${r.perSecond.toFixed(0)} ${unit}s/s`,
  );
  if (!profiling) return;
  console.log(`  server, by origin (${profilePath(name, workload, "server")}):\n${summarizeCpuProfile(profilePath(name, workload, "server"), serverPer, unit)}`);
  console.log(`  client, by origin (${profilePath(name, workload, "client")}):\n${summarizeCpuProfile(profilePath(name, workload, "client"), clientPer, unit)}`);
}

const flag = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const role = flag("role");
const workload = flag("workload") ?? "unary-64";
const calls = Number(flag("calls") ?? (WORKLOADS[workload]?.stream ? 20 : 30000));
if (WORKLOADS[workload] === undefined) throw new Error(`unknown --workload=${workload} (${Object.keys(WORKLOADS).join(", ")})`);
if (role === "server") await serve(flag("contender")!, workload);
else if (role === "client") await drive(flag("contender")!, flag("address")!, workload, calls);
else {
  const names = (flag("contender") ?? "raw-h2,ferry-grpc").split(",");
  for (const n of names) if (findContender(n) === undefined) throw new Error(`unknown contender "${n}"`);
  compileBench();
  for (const n of names) await measure(n, workload, calls);
}
