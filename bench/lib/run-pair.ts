import type { ChildProcess } from "node:child_process";
import { readMessages, type ChildMessage } from "./child-protocol.js";
import { startChild, stopChild } from "./child-processes.js";
import type { Contender } from "./contenders.js";
import type { RunResult } from "./load.js";
import type { Workload } from "./workloads.js";

/** CPU cores the server and the client are pinned to. */
export const SERVER_CORE = 0;
export const CLIENT_CORE = 1;
/** How long a server may take to start, in milliseconds. */
const READY_TIMEOUT_MS = 30_000;
/** Slack on top of warm-up and runs before a client is considered hung, in milliseconds. */
const CLIENT_SLACK_MS = 60_000;

/** The measurements of one contender on one workload. */
export type PairOutcome =
  | { status: "ok"; runs: RunResult[]; maxRssKiB: number | undefined; cpu?: CpuPerUnit }
  | { status: "skipped"; reason: string }
  | { status: "error"; reason: string };

/**
 * CPU µs each side spent per call (per message for streams) over the timed
 * runs, from the processes' `process.cpuUsage()`: the client's around its
 * runs, the server's from the client's end of warm-up to the end. A
 * same-process contender has one figure for both (`server` undefined).
 */
export interface CpuPerUnit {
  readonly server: number | undefined;
  readonly client: number;
}

/** What one pair needs to know besides contender and workload. */
export interface PairSettings {
  readonly runs: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly socketDir: string;
}

interface Inbox {
  readonly messages: ChildMessage[];
  wake: (() => void) | undefined;
  closed: string | undefined;
}
const inboxes = new WeakMap<ChildProcess, Inbox>();

function inboxOf(child: ChildProcess): Inbox {
  let inbox = inboxes.get(child);
  if (inbox === undefined) {
    const created: Inbox = { messages: [], wake: undefined, closed: undefined };
    readMessages(child.stdout!, (m) => {
      created.messages.push(m);
      created.wake?.();
    });
    child.on("close", (code, signal) => {
      created.closed = `exited (code ${code}, signal ${signal})`;
      created.wake?.();
    });
    inboxes.set(child, created);
    inbox = created;
  }
  return inbox;
}

/**
 * Resolves with the next message from `child` that `accept` takes (or a
 * skip/error message); rejects when the child exits first or after `timeoutMs`.
 */
function nextMessage(child: ChildProcess, what: string, timeoutMs: number, accept: (m: ChildMessage) => boolean): Promise<ChildMessage> {
  const inbox = inboxOf(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${what}: no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    const finish = (err: Error | undefined, m?: ChildMessage) => {
      clearTimeout(timer);
      inbox.wake = undefined;
      if (err !== undefined) reject(err);
      else resolve(m!);
    };
    const check = (): boolean => {
      while (inbox.messages.length > 0) {
        const m = inbox.messages.shift()!;
        if (accept(m) || m.type === "error" || m.type === "skip") {
          finish(undefined, m);
          return true;
        }
      }
      if (inbox.closed !== undefined) finish(new Error(`${what}: ${inbox.closed} before answering`));
      return false;
    };
    inbox.wake = check;
    check();
  });
}

function failure(m: ChildMessage): PairOutcome | undefined {
  if (m.type === "skip") return { status: "skipped", reason: m.reason };
  if (m.type === "error") return { status: "error", reason: m.message.split("\n")[0] };
  return undefined;
}

async function runClient(contender: Contender, workload: Workload, settings: PairSettings, address: string | undefined, core: number, onWarm?: () => Promise<void>): Promise<ChildMessage> {
  const config = { contender: contender.name, workload: workload.name, address, ...settings };
  const client = startChild("client-process", core, config);
  try {
    const budgetMs = (settings.warmupSeconds + settings.runs * settings.seconds) * 1000 + CLIENT_SLACK_MS;
    const first = await nextMessage(client, `${contender.name} client`, budgetMs, (m) => m.type === "result" || m.type === "warm");
    if (first.type !== "warm") return first;
    await onWarm?.();
    return await nextMessage(client, `${contender.name} client`, budgetMs, (m) => m.type === "result");
  } finally {
    stopChild(client);
  }
}

/** CPU per unit (call or message) of both sides, when the processes reported their CPU time. */
function cpuPerUnit(runs: readonly RunResult[], clientMicros: number | undefined, serverMicros: number | undefined, sameProcess: boolean): CpuPerUnit | undefined {
  const units = runs.reduce((n, r) => n + r.count, 0);
  if (clientMicros === undefined || units === 0) return undefined;
  return { server: sameProcess || serverMicros === undefined ? undefined : serverMicros / units, client: clientMicros / units };
}

/**
 * Measures `contender` on `workload`: starts its server pinned to
 * {@link SERVER_CORE}, its client pinned to {@link CLIENT_CORE} (or both in
 * one process on the server core for same-process contenders), collects the
 * runs and the server's peak RSS, and kills both processes whatever happens.
 */
export async function runPair(contender: Contender, workload: Workload, settings: PairSettings): Promise<PairOutcome> {
  if (contender.sameProcess) {
    try {
      const m = await runClient(contender, workload, settings, undefined, SERVER_CORE);
      if (m.type !== "result") return failure(m) ?? { status: "error", reason: "unexpected answer" };
      return { status: "ok", runs: m.runs, maxRssKiB: m.maxRssKiB, cpu: cpuPerUnit(m.runs, m.cpuMicros, undefined, true) };
    } catch (err) {
      return { status: "error", reason: err instanceof Error ? err.message : String(err) };
    }
  }
  const server = startChild("server-process", SERVER_CORE, { contender: contender.name, workload: workload.name, ...settings });
  try {
    const ready = await nextMessage(server, `${contender.name} server`, READY_TIMEOUT_MS, (m) => m.type === "ready");
    if (ready.type !== "ready") return failure(ready)!;
    let serverCpu0: number | undefined;
    const markServerCpu = async (): Promise<void> => {
      const answer = nextMessage(server, `${contender.name} server`, 10_000, (m) => m.type === "cpu");
      server.stdin!.write("cpu\n");
      const m = await answer;
      if (m.type === "cpu") serverCpu0 = m.micros;
    };
    const result = await runClient(contender, workload, settings, ready.address, CLIENT_CORE, markServerCpu);
    if (result.type !== "result") return failure(result)!;
    const stoppedP = nextMessage(server, `${contender.name} server`, 10_000, (m) => m.type === "stopped");
    server.stdin!.write("stop\n");
    const stopped = await stoppedP;
    if (stopped.type !== "stopped") return { status: "ok", runs: result.runs, maxRssKiB: undefined };
    const serverMicros = serverCpu0 === undefined || stopped.cpuMicros === undefined ? undefined : stopped.cpuMicros - serverCpu0;
    return { status: "ok", runs: result.runs, maxRssKiB: stopped.maxRssKiB, cpu: cpuPerUnit(result.runs, result.cpuMicros, serverMicros, false) };
  } catch (err) {
    return { status: "error", reason: err instanceof Error ? err.message : String(err) };
  } finally {
    stopChild(server);
  }
}
