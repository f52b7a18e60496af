import { execFile } from "node:child_process";
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
