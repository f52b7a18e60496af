/**
 * Several hosts on this machine with real network separation (netns.ts):
 * hosts a, b and c each run one node of a three-node NATS cluster with
 * JetStream (streams and the registry's KV bucket with 3 replicas) and a
 * group of Ferry processes (host-process.ts: EchoService registered in the
 * NATS KV registry, an HTTP front calling it on any host and publishing a
 * confirmed event, a consumer group); a fourth namespace runs the HTTP load
 * and watches the registry (probe.ts). Faults under that steady load:
 * SIGKILL of host c's NATS node and processes; host c's link down for 10 s,
 * then healed; 100 ms netem delay on host c's link. Pass criteria (issue 17):
 * after a failover window of the registry TTL plus one retry no request
 * fails, no confirmed event is lost, the registry converges to the live
 * instances within the TTL, and a healed host rejoins without a restart.
 * The failover figures are printed per fault.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsCluster, type NatsCluster } from "../messaging/nats-cluster.js";
import { brokerBinaries, missingBinary } from "../messaging/private-brokers.js";
import { createHostNetwork, netemUnavailable, netnsUnavailable, type Host, type HostNetwork } from "./netns.js";

const run = promisify(execFile);
const require = process.env.FERRY_REQUIRE_SERVICES === "1";
const unavailable = (await netnsUnavailable()) ?? missingBinary(brokerBinaries.nats);
if (unavailable !== undefined && require) throw new Error(`multi-host tests: ${unavailable} and FERRY_REQUIRE_SERVICES=1`);
if (unavailable !== undefined) console.log(`skipping the multi-host tests: ${unavailable}`);
const noNetem = unavailable === undefined ? await netemUnavailable() : undefined;

/** Registration TTL of the hosts' instances, in ms; the failover window is TTL plus one retry (1 s). */
const TTL_MS = 10_000;
const WINDOW_MS = TTL_MS + 1_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Req { id: string; t: number; ms: number; ok: boolean; attempts: number; front?: string; error?: string }
interface RegistryView { t: number; ids: string[] }

describe.skipIf(unavailable !== undefined)("multi-host: three hosts in network namespaces, a NATS cluster, faults under load", () => {
  let net: HostNetwork;
  let cluster: NatsCluster;
  let hosts: Host[];
  const procs = new Map<string, ChildProcess>();
  let probe: ChildProcess | undefined;
  const reqs: Req[] = [];
  const views: RegistryView[] = [];
  let verified: string[] | undefined;
  let verifyMs = 0;
  const figures: string[] = [];

  const natsUrl = (h: Host): string => `nats://${h.ip}:4222?servers=${hosts.filter((o) => o !== h).map((o) => `${o.ip}:4222`).join(",")}`;
  const node = (h: Host) => cluster.nodes[hosts.indexOf(h)]!;

  async function startHost(h: Host): Promise<void> {
    const argv = net.wrap(h, [process.execPath, "--conditions=ferry-source", "--import", "tsx", "test/multihost/host-process.ts", "--name", h.name, "--ip", h.ip, "--nats", natsUrl(h), "--ttl-ms", String(TTL_MS)]);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
    procs.set(h.name, child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`host ${h.name}'s processes did not start within 30 s`)), 30_000);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.startsWith("ready ")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => reject(new Error(`host ${h.name}'s processes exited with ${code}`)));
    });
  }

  async function killHost(h: Host): Promise<void> {
    const child = procs.get(h.name);
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    }
  }

  const lastView = (): string[] => views.at(-1)?.ids ?? [];
  async function waitUntil(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
    const start = Date.now();
    while (!cond()) {
      if (Date.now() - start > timeoutMs) throw new Error(`${what} within ${timeoutMs} ms`);
      await sleep(100);
    }
    return Date.now();
  }
  /** Requests started in [from, to): total, failed, failed after `from + windowMs`. */
  function tally(from: number, to: number, windowMs: number): { total: number; failed: number; failedAfterWindow: number; p50: number } {
    const inRange = reqs.filter((r) => r.t >= from && r.t < to);
    const ms = inRange.map((r) => r.ms).sort((a, b) => a - b);
    return {
      total: inRange.length,
      failed: inRange.filter((r) => !r.ok).length,
      failedAfterWindow: inRange.filter((r) => !r.ok && r.t >= from + windowMs).length,
      p50: ms[Math.floor(ms.length / 2)] ?? 0,
    };
  }

  beforeAll(async () => {
    const began = Date.now();
    net = await createHostNetwork(["a", "b", "c", "client"]);
    hosts = net.hosts.slice(0, 3) as Host[];
    const client = net.hosts[3]!;
    cluster = await startNatsCluster(hosts.map((h) => ({
      host: h.ip, clientPort: 4222, routePort: 6222, monitorPort: 8222,
      wrap: (argv: string[]) => net.wrap(h, argv),
      getJson: async (url: string) => JSON.parse((await run("ip", ["netns", "exec", h.netns, "curl", "-sf", "-m", "2", url])).stdout),
    })));
    const argv = net.wrap(client, [process.execPath, "--conditions=ferry-source", "--import", "tsx", "test/multihost/probe.ts", "--fronts", hosts.map((h) => `http://${h.ip}:8080`).join(","), "--nats", natsUrl(hosts[0]!), "--rate", "20"]);
    probe = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "inherit"] });
    createInterface({ input: probe.stdout! }).on("line", (line) => {
      const m = JSON.parse(line) as { type: string } & Req & RegistryView & { ids: string[] };
      if (m.type === "req") reqs.push(m);
      else if (m.type === "registry") views.push({ t: m.t, ids: m.ids });
      else if (m.type === "verify") {
        [verified, verifyMs] = [m.ids, m.ms];
        if ((m as { stream?: unknown }).stream !== undefined) console.log(`[multihost] stream at the read-back: ${JSON.stringify((m as { stream?: unknown }).stream)}`);
      }
    });
    await Promise.all(hosts.map(startHost));
    await waitUntil("all three instances registered and every front serving", () => lastView().length === 3 && new Set(reqs.filter((r) => r.ok).map((r) => r.front)).size === 3, 30_000);
    figures.push(`  set-up (namespaces, NATS cluster, 3 hosts' processes, client): ${Date.now() - began} ms`);
  }, 90_000);

  afterAll(async () => {
    probe?.kill("SIGKILL");
    for (const h of hosts ?? []) await killHost(h);
    await cluster?.stop();
    await net?.destroy();
    if (figures.length > 0) console.log(`[multihost] failover figures\n${figures.join("\n")}`);
  }, 30_000);

  it("SIGKILL of host c's NATS node and processes: no request fails after the window, the registry drops c within the TTL, c restarts and rejoins", async () => {
    const c = hosts[2]!;
    await sleep(1000);
    const t0 = Date.now();
    await Promise.all([killHost(c), node(c).kill("SIGKILL")]);
    const converged = await waitUntil("registry without echo-c", () => lastView().join() === "echo-a,echo-b", TTL_MS + 5_000);
    expect(converged - t0).toBeLessThanOrEqual(TTL_MS + 1_000);
    // Host c comes back while the load goes on; requests are counted until it serves again (past the window).
    await node(c).start();
    await startHost(c);
    const back = await waitUntil("c registered and serving again", () => lastView().length === 3 && reqs.some((r) => r.t > t0 && r.front === "c"), 20_000);
    await sleep(Math.max(0, t0 + WINDOW_MS + 1_000 - Date.now()));
    const t = tally(t0, Date.now(), WINDOW_MS);
    figures.push(`  kill host c (NATS node and processes, SIGKILL): ${t.total} requests, ${t.failed} failed (${t.failedAfterWindow} after the ${WINDOW_MS} ms window); registry without c after ${converged - t0} ms; restarted c serving again ${back - t0} ms after the kill`);
    expect(t.failedAfterWindow).toBe(0);
  }, 60_000);

  it("host c's link down for 10 s, then healed: no request fails after the window, c rejoins without a restart", async () => {
    const c = hosts[2]!;
    const t0 = Date.now();
    await net.setLink(c, false);
    await sleep(10_000);
    await net.setLink(c, true);
    const healed = Date.now();
    const registered = await waitUntil("c registered again", () => lastView().length === 3, 20_000);
    const back = await waitUntil("c serving again", () => reqs.some((r) => r.t > healed && r.front === "c" && r.ok), 20_000);
    await cluster.waitFormed(10_000); // c's NATS node is routed to the others again, same meta leader everywhere
    const t = tally(t0, Date.now(), WINDOW_MS);
    figures.push(`  link of host c down 10 s: ${t.total} requests, ${t.failed} failed (${t.failedAfterWindow} after the ${WINDOW_MS} ms window); c registered again ${registered - healed} ms and serving ${back - healed} ms after the heal`);
    for (const r of reqs.filter((q) => q.t >= t0 && !q.ok)) console.log(`failed at +${r.t - t0} ms: ${r.error}`);
    expect(t.failedAfterWindow).toBe(0);
  }, 60_000);

  // A kernel without sch_netem is a property of the machine, not a service CI
  // could start, so this case skips with its reason even under
  // FERRY_REQUIRE_SERVICES=1 (the node-svc machines' kernels lack it).
  it.skipIf(noNetem !== undefined)(`100 ms netem delay on host c's link: no request fails${noNetem !== undefined ? ` — skipped: ${noNetem}` : ""}`, async () => {
    const c = hosts[2]!;
    const before = tally(Date.now() - 3000, Date.now(), 0);
    const t0 = Date.now();
    await net.setDelay(c, 100);
    try {
      await sleep(5000);
    } finally {
      await net.setDelay(c, 0);
    }
    const t = tally(t0, Date.now(), 0);
    figures.push(`  100 ms on host c's link: ${t.total} requests, ${t.failed} failed, p50 ${before.p50} → ${t.p50} ms`);
    expect(t.failed).toBe(0);
  }, 30_000);

  it("no confirmed event is lost: every id a front confirmed is in the stream", async () => {
    probe!.stdin!.write("stop\n");
    await waitUntil("the probe's read-back", () => verified !== undefined, 35_000);
    const confirmed = reqs.filter((r) => r.ok).map((r) => r.id);
    const stored = new Set(verified);
    const lost = confirmed.filter((id) => !stored.has(id));
    figures.push(`  events: ${confirmed.length} confirmed, ${lost.length} lost, ${stored.size} read back from the stream in ${verifyMs} ms`);
    expect(lost).toEqual([]);
  }, 40_000);
});
