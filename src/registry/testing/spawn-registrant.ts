import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./register-child.ts", import.meta.url));

/**
 * Starts a child process that registers `instanceId` of `service` in the
 * registry at `url` with `ttlMs` and keeps it alive; resolves once it is
 * registered. Kill it with `child.kill("SIGKILL")` to simulate a crash.
 */
export function spawnRegistrant(url: string, service: string, instanceId: string, ttlMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", script, url, service, instanceId, String(ttlMs)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FERRY_LOG_LEVEL: "silent" },
  });
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`registrant did not register within 15 s: ${stderr}`));
    }, 15_000);
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("registered")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`registrant exited with ${code}: ${stderr}`));
    });
  });
}

/** Kills a child with SIGKILL (no chance to deregister) and waits for it to exit. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}
