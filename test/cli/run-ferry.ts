/**
 * Runs the `ferry` command from source as a user would, in a child process,
 * for the CLI tests: `node --import tsx src/cli/main.ts …`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** What one `ferry` run printed and its exit status. */
export interface FerryRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runFerry}. */
export interface RunOptions {
  /** Written to the child's stdin, which is then closed; default: stdin closed at once. */
  readonly stdin?: string;
  /** Keep stdin open after writing `stdin` (closed once the child exits), as a user who has not typed Ctrl-D. */
  readonly holdStdin?: boolean;
  /** Kills the child after this long, in ms (the test then fails on its output). Default 60 000. */
  readonly killAfterMs?: number;
  /** Receives the child process once spawned (to send it a signal). */
  readonly onSpawn?: (child: ChildProcess) => void;
}

/** Runs `ferry ...args` in the repository root and resolves when it exits. */
export function runFerry(args: readonly string[], options: RunOptions = {}): Promise<FerryRun> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: repoRoot,
    env: { ...process.env, FERRY_LOG_LEVEL: "silent", NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin.on("error", () => {}); // the child may exit before reading stdin
  if (options.holdStdin) child.stdin.write(options.stdin ?? "");
  else child.stdin.end(options.stdin ?? "");
  options.onSpawn?.(child);
  const killer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs ?? 60_000);
  return new Promise((resolve) => {
    child.once("close", (code) => {
      clearTimeout(killer);
      child.stdin.destroy();
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses output printed as JSON lines. */
export function jsonLines(text: string): unknown[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as unknown);
}

/** A TCP port that was free a moment ago, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
