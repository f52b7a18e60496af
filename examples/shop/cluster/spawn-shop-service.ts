import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ShopRole } from "./start-shop-service.js";
import { parseStatus, type ReadyStatus, type ShopStatus, type StatsStatus } from "./status-line.js";

const script = fileURLToPath(new URL("./service-process.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** Options of {@link spawnShopService}. */
export interface SpawnShopServiceOptions {
  role: ShopRole;
  /** Flags after `--service <role>` (see service-process.ts). */
  args?: readonly string[];
  /** Extra environment (e.g. `FERRY_LOG_LEVEL`). */
  env?: Record<string, string>;
  /** Every line the process writes, standard output and error (status lines too). */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** How long to wait for the ready line, in ms. Default 30,000. */
  readyTimeoutMs?: number;
  /**
   * Start the child in its own process group, so a terminal's Ctrl-C reaches
   * only the parent, which then stops the child once. Default false.
   */
  ownProcessGroup?: boolean;
}

/** A shop service running in a child process. */
export interface ShopProcess {
  readonly role: ShopRole;
  readonly child: ChildProcess;
  readonly ready: ReadyStatus;
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** Asks for the calls served so far (SIGUSR2) and resolves with the next stats line. */
  stats(timeoutMs?: number): Promise<StatsStatus>;
  /** SIGTERM (graceful: deregister, drain), then SIGKILL after `timeoutMs` (default 10,000); resolves once exited. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL: a crash, no deregistration. Resolves once exited. */
  kill(): Promise<void>;
}

/**
 * Starts `service-process.ts --service <role>` as a child process
 * (`node --import tsx`, so the pid is the service's own) and resolves once it
 * wrote its ready line. The child stops gracefully when this process exits
 * (its IPC channel closes). Rejects, after killing it, if it exits or stays silent
 * for `readyTimeoutMs` first.
 */
export function spawnShopService(options: SpawnShopServiceOptions): Promise<ShopProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", script, "--service", options.role, ...(options.args ?? [])], {
    cwd: repoRoot,
    // The IPC channel is how the child notices that its parent died: it then stops by itself.
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, ...options.env },
    detached: options.ownProcessGroup ?? false,
  });
  const statusWaiters: Array<(s: ShopStatus) => void> = [];
  // "close": the process exited and its output was read to the end.
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once("close", (code, signal) => resolve(signal ?? code)));
  let stderrTail = "";
  createInterface({ input: child.stdout! }).on("line", (line) => {
    options.onLine?.(line, "stdout");
    const status = parseStatus(line);
    if (status !== undefined) for (const w of statusWaiters.splice(0)) w(status);
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    options.onLine?.(line, "stderr");
    stderrTail = (stderrTail + line + "\n").slice(-2000);
  });
  const next = <T extends ShopStatus>(event: T["event"], timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.role} (pid ${child.pid}) wrote no ${event} line within ${timeoutMs} ms`)), timeoutMs);
      const waiter = (s: ShopStatus) => {
        if (s.event !== event) return void statusWaiters.push(waiter);
        clearTimeout(timer);
        resolve(s as T);
      };
      statusWaiters.push(waiter);
      void exited.then((how) => {
        clearTimeout(timer);
        reject(new Error(`${options.role} (pid ${child.pid}) exited (${String(how)}) before its ${event} line: ${stderrTail}`));
      });
    });
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return next<ReadyStatus>("ready", options.readyTimeoutMs ?? 30_000).then(
    (ready) => ({
      role: options.role,
      child,
      ready,
      exited,
      stats(timeoutMs = 5_000) {
        const line = next<StatsStatus>("stats", timeoutMs);
        child.kill("SIGUSR2");
        return line;
      },
      async stop(timeoutMs = 10_000) {
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        await kill("SIGTERM");
        clearTimeout(timer);
      },
      kill: () => kill("SIGKILL"),
    }),
    async (err: unknown) => {
      await kill("SIGKILL");
      throw err;
    },
  );
}
