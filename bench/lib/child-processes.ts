import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { compiledPath } from "./compiled.js";

/**
 * Starts the benchmark's child processes pinned to one core each with
 * `taskset -c CORE`, and kills every one still running when the runner
 * exits, fails or gets SIGINT/SIGTERM.
 */

const running = new Set<ChildProcess>();
let handlersInstalled = false;

/** Whether children can be pinned: `taskset` present and at least 2 cores. */
export const canPin: boolean = availableParallelism() >= 2 && spawnSync("taskset", ["-V"], { stdio: "ignore" }).status === 0;

/** Kills every child still running (SIGKILL); synchronous, safe in an exit handler. */
export function killAll(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  running.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      killAll();
      process.stderr.write(`\nbench: ${signal}, child processes killed\n`);
      process.exit(130);
    });
  }
}

/**
 * Runs `bench/lib/<entry>.ts`, compiled (see bench/lib/compiled.ts; call
 * `compileBench()` first), under plain node, pinned to `core` when
 * {@link canPin}, with `config` as its JSON argument. Stdout is piped (the
 * protocol), stderr inherited. Ferry's logger is silenced in the child.
 */
export function startChild(entry: "server-process" | "client-process", core: number, config: object): ChildProcess {
  installHandlers();
  const script = compiledPath(fileURLToPath(new URL(`./${entry}.ts`, import.meta.url)));
  const nodeArgs = [script, JSON.stringify(config)];
  const [cmd, args] = canPin ? ["taskset", ["-c", String(core), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd, args, {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, FERRY_LOG_LEVEL: "silent" },
  });
  running.add(child);
  child.on("exit", () => running.delete(child));
  return child;
}

/** Kills `child` if it is still running. */
export function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  running.delete(child);
}
