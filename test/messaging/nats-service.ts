import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { isReachable } from "../support/services.js";

const run = promisify(execFile);

/** The project brief's start command for NATS (with JetStream), as argv. */
const startArgs = [
  "--start", "--oknodo", "--background", "--exec", "/usr/sbin/nats-server", "--",
  "-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/var/lib/nats-server", "-l", "/var/log/nats-server.log",
];

/** Polls until 127.0.0.1:4222 answers (`up`) or stops answering (`!up`), at most `timeoutMs`. */
async function waitNats(up: boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await isReachable("127.0.0.1", 4222, 300)) === up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`NATS did not ${up ? "come up" : "stop"} within ${timeoutMs} ms`);
}

/** Starts NATS with the brief's command if it does not answer; resolves once it answers. */
export async function ensureNatsRunning(): Promise<void> {
  if (await isReachable("127.0.0.1", 4222, 300)) return;
  await run("start-stop-daemon", startArgs);
  await waitNats(true, 15_000);
}

/**
 * Stops the NATS server (SIGTERM via start-stop-daemon, matching only
 * /usr/sbin/nats-server), then starts it again with the brief's command and
 * waits until it answers. JetStream's file store keeps the streams.
 */
export async function restartNats(downMs = 2000): Promise<void> {
  try {
    await run("start-stop-daemon", ["--stop", "--oknodo", "--retry", "TERM/10/KILL/5", "--exec", "/usr/sbin/nats-server"]);
    await waitNats(false, 10_000);
    await new Promise((r) => setTimeout(r, downMs));
  } finally {
    await run("start-stop-daemon", startArgs);
    await waitNats(true, 15_000);
  }
}

/** A NATS server of this test's own: its URL, a restart that keeps its JetStream store, and a stop that removes it. */
export interface PrivateNats {
  readonly url: string;
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitPort(port: number, up: boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await isReachable("127.0.0.1", port, 300)) !== up) {
    if (Date.now() > until) throw new Error(`private NATS on ${port} did not ${up ? "come up" : "stop"} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts `/usr/sbin/nats-server` with JetStream on a free loopback port and a
 * store directory of its own (the brief's flags, another port and directory),
 * so a restart test never disturbs other tests using the shared server.
 */
export async function startPrivateNats(): Promise<PrivateNats> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "ferry-nats-"));
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn("/usr/sbin/nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], { stdio: "ignore" });
    await waitPort(port, true, 15_000);
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await exited;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    restart: async (downMs = 2000) => {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
