/**
 * Shared by the crash-injection children: argument parsing and a fault hook
 * that kills the process with SIGKILL at the `hit`-th arrival at a named
 * fault point (no cleanup, no flush: what a power cut or OOM kill does).
 */
import { fork, type ChildProcess } from "node:child_process";
import type { FaultHook, FaultPointName } from "../../src/consistency/fault-hook.js";

/** Parses the child's JSON argument. */
export function childArgs<T>(): T {
  return JSON.parse(process.argv[2] ?? "{}") as T;
}

/** A fault hook that SIGKILLs this process at the `hit`-th call with `point` (1-based); none when `point` is undefined. */
export function killAt(point: FaultPointName | undefined, hit = 1): FaultHook | undefined {
  if (point === undefined) return undefined;
  let seen = 0;
  return (p) => {
    if (p === point && ++seen === hit) process.kill(process.pid, "SIGKILL");
  };
}

/** Forks `script` (a .ts file run with tsx) with `args` as JSON; logs silenced. */
export function forkChild(script: string, args: unknown): ChildProcess {
  return fork(script, [JSON.stringify(args)], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, FERRY_LOG_LEVEL: "silent" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

/** Resolves with the child's exit signal (e.g. "SIGKILL") or code once it ended; rejects after `timeoutMs`. */
export function exited(child: ChildProcess, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(String(child.signalCode ?? child.exitCode));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("child did not exit in time"));
    }, timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(String(signal ?? code));
    });
  });
}
