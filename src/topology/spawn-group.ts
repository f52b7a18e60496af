import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { parseReady, type GroupReady } from "./ready-line.js";

/** Options of {@link spawnGroup}. */
export interface SpawnGroupOptions {
  /** The topology file. */
  configFile: string;
  /** The process group the child runs. */
  group: string;
  /**
   * How to start the `ferry` tool: executable and leading arguments. Default
   * `[process.execPath, ...process.execArgv, process.argv[1]]`, this process's
   * own command (right when called from `ferry run`).
   */
  command?: readonly string[];
  /** Extra environment of the child. */
  env?: Record<string, string>;
  /** Every line the child writes (ready line included). */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** How long to wait for the ready line, in ms. Default 60,000. */
  readyTimeoutMs?: number;
  /** Start the child in its own process group, so a terminal's Ctrl-C reaches only the parent. Default false. */
  detached?: boolean;
}

/** A process group running in a child process. */
export interface GroupProcess {
  readonly group: string;
  readonly child: ChildProcess;
  readonly ready: GroupReady;
  /** Resolves with the exit code or signal once the child exited. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** SIGTERM (deregister, drain, exit), then SIGKILL after `timeoutMs` (default 15,000); resolves once exited. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL: a crash, no deregistration. Resolves once exited. */
  kill(): Promise<void>;
}

/**
 * Starts `ferry run CONFIG --group GROUP` as a child process and resolves
 * once it wrote its ready line. The child stops by itself when this process
 * goes away (its IPC channel closes). Rejects with UNAVAILABLE, after killing
 * it, when the child exits or stays silent for `readyTimeoutMs` first (the
 * message carries the end of its standard error).
 */
export function spawnGroup(options: SpawnGroupOptions): Promise<GroupProcess> {
  const [exe, ...lead] = options.command ?? [process.execPath, ...process.execArgv, process.argv[1]!];
  const child = spawn(exe!, [...lead, "run", options.configFile, "--group", options.group], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, ...options.env },
    detached: options.detached ?? false,
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once("close", (code, signal) => resolve(signal ?? code)));
  let stderrTail = "";
  let onReady: (ready: GroupReady) => void = () => undefined;
  const ready = new Promise<GroupReady>((resolve) => (onReady = resolve));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    options.onLine?.(line, "stdout");
    const r = parseReady(line);
    if (r !== undefined) onReady(r);
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    options.onLine?.(line, "stderr");
    stderrTail = (stderrTail + line + "\n").slice(-2000);
  });
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const failed = (why: string) => new FerryError(Code.UNAVAILABLE, `group ${options.group} (pid ${child.pid ?? "?"}) ${why}${stderrTail === "" ? "" : `:\n${stderrTail}`}`);
  let timer: NodeJS.Timeout | undefined;
  const gate = Promise.race([
    ready,
    exited.then((how) => Promise.reject(failed(`exited (${String(how)}) before it was ready`))),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(failed(`wrote no ready line within ${timeoutMs} ms`)), timeoutMs))),
  ]);
  return gate.then(
    (r) => {
      clearTimeout(timer);
      return {
        group: options.group,
        child,
        ready: r,
        exited,
        async stop(stopTimeoutMs = 15_000) {
          const killer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
          await kill("SIGTERM");
          clearTimeout(killer);
        },
        kill: () => kill("SIGKILL"),
      };
    },
    async (err: unknown) => {
      clearTimeout(timer);
      await kill("SIGKILL");
      throw err;
    },
  );
}
