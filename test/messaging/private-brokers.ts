/**
 * Broker processes of a test's own: NATS with JetStream, Redis with an
 * append-only file, and a second RabbitMQ node, each on free loopback ports
 * with a data directory of its own. Restarting or stopping one signals only
 * the process this module started (by pid), so a test never disturbs the
 * machine's services or other tests running in parallel on them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "amqplib";
import { freePort } from "../cli/run-ferry.js";
import { isReachable } from "../support/services.js";

/** A broker process of the test's own. */
export interface PrivateBroker {
  /** The URL clients connect to. */
  readonly url: string;
  /** SIGTERM (the broker's graceful stop), wait `downMs` (default 2000), start again on the same port and data directory. */
  restart(downMs?: number): Promise<void>;
  /** Stops the process and removes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The broker binaries these helpers start (Debian's packages). */
export const brokerBinaries = {
  nats: "/usr/sbin/nats-server",
  redis: "/usr/bin/redis-server",
  rabbitmq: "/usr/lib/rabbitmq/bin/rabbitmq-server",
} as const;

/** Undefined when `binary` is installed, else a one-line reason to skip (or to fail with under FERRY_REQUIRE_SERVICES=1). */
export function missingBinary(binary: string): string | undefined {
  return existsSync(binary) ? undefined : `${binary} is not installed`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 100 ms until it resolves true; throws after `timeoutMs`. */
async function until(probe: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends SIGTERM to `pid` and waits until it is gone (SIGKILL after 20 s). */
async function terminate(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, "SIGTERM");
  const end = Date.now() + 20_000;
  while (alive(pid)) {
    if (Date.now() > end) process.kill(pid, "SIGKILL");
    await sleep(50);
  }
}

interface ProcessSpec {
  readonly name: string;
  readonly dir: string;
  readonly url: string;
  /** Spawns the broker. */
  spawn(): ChildProcess;
  /** The pid to signal (defaults to the spawned child's). */
  pid?(child: ChildProcess): Promise<number>;
  /** Resolves true once clients can use the broker. */
  ready(): Promise<boolean>;
  readonly startTimeoutMs: number;
}

/** Runs one broker process described by `spec`; restart keeps its data directory. */
async function ownBroker(spec: ProcessSpec): Promise<PrivateBroker> {
  let pid: number | undefined;
  const pidOf = async (child: ChildProcess): Promise<number | undefined> =>
    spec.pid !== undefined ? spec.pid(child).catch(() => undefined) : child.pid;
  const start = async (): Promise<void> => {
    const child = spec.spawn();
    let exited = false;
    child.once("exit", () => (exited = true));
    try {
      await until(async () => {
        if (exited) throw new Error(`${spec.name} exited during start (see ${spec.dir})`);
        return spec.ready();
      }, `${spec.name} did not start`, spec.startTimeoutMs);
    } catch (err) {
      for (const p of [await pidOf(child), child.pid]) if (p !== undefined) await terminate(p);
      throw err;
    }
    pid = await pidOf(child);
  };
  const kill = async (): Promise<void> => {
    if (pid !== undefined) await terminate(pid);
    pid = undefined;
  };
  await start().catch(async (err: unknown) => {
    await rm(spec.dir, { recursive: true, force: true });
    throw err;
  });
  return {
    url: spec.url,
    restart: async (downMs = 2000) => {
      await kill();
      await sleep(downMs);
      await start();
    },
    stop: async () => {
      await kill();
      await rm(spec.dir, { recursive: true, force: true });
    },
  };
}

/** nats-server with JetStream (`-js -sd DIR`) on a free loopback port. */
export async function startPrivateNats(): Promise<PrivateBroker> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "ferry-nats-"));
  return ownBroker({
    name: "private nats-server",
    dir,
    url: `nats://127.0.0.1:${port}`,
    spawn: () => spawn(brokerBinaries.nats, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], { stdio: "ignore" }),
    ready: () => isReachable("127.0.0.1", port, 300),
    startTimeoutMs: 15_000,
  });
}

/**
 * redis-server on a free loopback port with an append-only file fsynced on
 * every write in its own directory, so entries confirmed before a restart are
 * still there after it.
 */
export async function startPrivateRedis(): Promise<PrivateBroker> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "ferry-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always"];
  return ownBroker({
    name: "private redis-server",
    dir,
    url: `redis://127.0.0.1:${port}`,
    spawn: () => spawn(brokerBinaries.redis, args, { stdio: "ignore" }),
    ready: () => isReachable("127.0.0.1", port, 300),
    startTimeoutMs: 15_000,
  });
}

/**
 * A second RabbitMQ node (not the machine's `rabbit@localhost`): its own node
 * name, AMQP and distribution ports on loopback, Mnesia and log directories,
 * Erlang cookie (HOME), an empty plugin list and an empty env file (so
 * /etc/rabbitmq/rabbitmq-env.conf does not rename it). The pid signalled is
 * the Erlang VM's, from the node's pid file (RABBITMQ_PID_FILE). Starting
 * takes about 5 s of one core. `conf`: more rabbitmq.conf lines (a TLS
 * listener, a default user).
 */
export async function startPrivateRabbitmq(conf = ""): Promise<PrivateBroker> {
  const [port, distPort] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), "ferry-rabbitmq-"));
  const node = `ferry-test-${port}@localhost`;
  await mkdir(join(dir, "home"));
  await writeFile(join(dir, "enabled_plugins"), "[].\n");
  await writeFile(join(dir, "env.conf"), "");
  await writeFile(join(dir, "rabbitmq.conf"), `listeners.tcp.default = 127.0.0.1:${port}\n${conf}`);
  const pidFile = join(dir, "node.pid");
  const env = {
    ...process.env,
    HOME: join(dir, "home"),
    RABBITMQ_CONF_ENV_FILE: join(dir, "env.conf"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq"),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_PID_FILE: pidFile,
    ERL_EPMD_ADDRESS: "127.0.0.1",
    ERL_FLAGS: "-kernel inet_dist_use_interface {127,0,0,1}",
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  return ownBroker({
    name: `private RabbitMQ node ${node}`,
    dir,
    url,
    spawn: () => spawn(brokerBinaries.rabbitmq, [], { env, stdio: "ignore", cwd: dir }),
    pid: async () => Number((await readFile(pidFile, "utf8")).trim()),
    ready: async () =>
      (await isReachable("127.0.0.1", port, 300)) &&
      connect(url).then(
        async (c) => (await c.close().catch(() => {}), true),
        () => false,
      ),
    startTimeoutMs: 90_000,
  });
}
