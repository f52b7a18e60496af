/**
 * A NATS cluster of the test's own: N nats-server processes with JetStream,
 * each with its own client, route and monitoring ports and store directory,
 * routed to each other (a full mesh of seed routes). Each node runs on its
 * own host address: loopback for single-machine tests, or an address inside
 * a network namespace (test/multihost) through `wrap`. Nodes are signalled
 * by pid only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brokerBinaries } from "./private-brokers.js";

/** Where and how one node runs. */
export interface NatsNodeSpec {
  /** Address the node listens on and advertises (client, route and monitoring ports). */
  readonly host: string;
  readonly clientPort: number;
  readonly routePort: number;
  readonly monitorPort: number;
  /** Turns the nats-server command into the command to spawn (e.g. `ip netns exec NS …`). Default: as is. */
  readonly wrap?: (argv: string[]) => string[];
  /** GETs a monitoring URL as JSON (e.g. with curl inside the namespace). Default: this process's fetch, 2 s timeout. */
  readonly getJson?: (url: string) => Promise<unknown>;
}

/** One node of a running cluster. */
export interface NatsNode {
  readonly name: string;
  readonly spec: NatsNodeSpec;
  /** `host:clientPort`. */
  readonly address: string;
  /** True while the process runs. */
  running(): boolean;
  /** Sends `signal` (default SIGKILL) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the node again on the same ports and store directory. */
  start(): Promise<void>;
  /** GETs a monitoring endpoint (`/jsz`, `/connz?…`, `/routez`) as JSON; rejects when the node does not answer within 2 s. */
  monitor<T = Record<string, unknown>>(path: string): Promise<T>;
}

/** A running cluster. */
export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** A Ferry URL naming every node: `nats://a?servers=b,c` plus `query` (e.g. `replicas=3`). */
  url(query?: string): string;
  /** Waits until every running node reports the same JetStream meta leader and `expected` routes each (default: running nodes − 1). */
  waitFormed(timeoutMs?: number): Promise<void>;
  /** Stops every node (SIGTERM) and removes the store directories. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function nodeConfig(name: string, spec: NatsNodeSpec, peers: readonly NatsNodeSpec[], storeDir: string): string {
  const routes = peers.filter((p) => p !== spec).map((p) => `"nats-route://${p.host}:${p.routePort}"`);
  return [
    `server_name: "${name}"`,
    `listen: "${spec.host}:${spec.clientPort}"`,
    `http: "${spec.host}:${spec.monitorPort}"`,
    `jetstream { store_dir: "${storeDir}" }`,
    `cluster { name: "ferry-test", listen: "${spec.host}:${spec.routePort}", routes: [${routes.join(", ")}] }`,
    "",
  ].join("\n");
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return (await res.json()) as T;
}

/** Starts a cluster of `specs.length` nodes; resolves once every node is formed (see {@link NatsCluster.waitFormed}). */
export async function startNatsCluster(specs: readonly NatsNodeSpec[], formTimeoutMs = 30_000): Promise<NatsCluster> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-nats-cluster-"));
  const nodes = await Promise.all(specs.map(async (spec, i) => {
    const name = `n${i + 1}`;
    const conf = join(dir, `${name}.conf`);
    await writeFile(conf, nodeConfig(name, spec, specs, join(dir, name)));
    let child: ChildProcess | undefined;
    const argv = (spec.wrap ?? ((a: string[]) => a))([brokerBinaries.nats, "-c", conf]);
    const node: NatsNode = {
      name,
      spec,
      address: `${spec.host}:${spec.clientPort}`,
      running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
      kill: async (signal = "SIGKILL") => {
        const c = child;
        if (c === undefined || !node.running()) return;
        const exited = new Promise((r) => c.once("exit", r));
        c.kill(signal);
        await exited;
      },
      start: async () => {
        child = spawn(argv[0], argv.slice(1), { stdio: "ignore" });
        const end = Date.now() + 15_000;
        while (!(await node.monitor("/healthz").then(() => true, () => false))) {
          if (!node.running() || Date.now() > end) throw new Error(`NATS node ${name} did not start (${conf})`);
          await sleep(100);
        }
      },
      monitor: async (path) => (spec.getJson ?? getJson)(`http://${spec.host}:${spec.monitorPort}${path}`) as never,
    };
    return node;
  }));
  const cluster: NatsCluster = {
    nodes,
    url: (query) => {
      const [first, ...rest] = nodes.map((n) => n.address);
      const params = [`servers=${rest.join(",")}`, ...(query === undefined ? [] : [query])];
      return `nats://${first}?${params.join("&")}`;
    },
    waitFormed: async (timeoutMs = 30_000) => {
      const end = Date.now() + timeoutMs;
      while (true) {
        const live = nodes.filter((n) => n.running());
        const views = await Promise.all(live.map((n) => n.monitor<{ meta_cluster?: { leader?: string } }>("/jsz").catch(() => undefined)));
        const routes = await Promise.all(live.map((n) => n.monitor<{ num_routes?: number }>("/routez").catch(() => undefined)));
        const leaders = new Set(views.map((v) => v?.meta_cluster?.leader ?? ""));
        if (!leaders.has("") && leaders.size === 1 && routes.every((r) => (r?.num_routes ?? 0) >= live.length - 1)) return;
        if (Date.now() > end) throw new Error(`NATS cluster not formed within ${timeoutMs} ms (leaders ${[...leaders].join("|")})`);
        await sleep(200);
      }
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.kill("SIGTERM")));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await cluster.waitFormed(formTimeoutMs);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
