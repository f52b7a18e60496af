/**
 * Helpers of the `ferry topics` / `ferry dlq` tests: a long-running `ferry`
 * child (tail) the test can wait on and stop, the brokers to run against
 * (the messaging conformance suite's entries: URLs, services, documented
 * limits and cleanup), and a test-local broker client.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createBroker, defineTopic, type Broker } from "../../src/messaging/index.js";
import { EchoRequestSchema } from "../gen/ferry/test/v1/echo_pb.js";
import { conformanceAdapters, type ConformanceAdapter } from "../messaging/adapters.js";
import { checkService } from "../support/services.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The `.proto` file (relative to the repository) whose `ferry.test.v1.EchoRequest` the tests publish. */
export const ECHO_PROTO = "test/proto/ferry/test/v1/echo.proto";

/** A running `ferry` child process. */
export interface FerryChild {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything printed so far. */
  readonly output: { stdout: string; stderr: string };
  /** Resolves once stderr matched `pattern`; rejects if the child exits first or after `timeoutMs` (default 30 s). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit status (`null` when killed by a signal) and the output. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

const children = new Set<ChildProcessWithoutNullStreams>();

/** Starts `ferry ...args` (from source, `node --import tsx`), killed after `killAfterMs` (default 60 s) at the latest. */
export function startFerry(args: readonly string[], killAfterMs = 60_000): FerryChild {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: repoRoot,
    env: { ...process.env, FERRY_LOG_LEVEL: "silent", NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(child);
  const output = { stdout: "", stderr: "" };
  const listeners = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (d: string) => (output.stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    output.stderr += d;
    for (const l of listeners) l();
  });
  child.stdin.end();
  const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.once("close", (code, signal) => {
      clearTimeout(killer);
      children.delete(child);
      for (const l of listeners) l();
      resolve({ code, signal, ...output });
    });
  });
  const waitForStderr = (pattern: RegExp, timeoutMs = 30_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pattern.test(output.stderr)) return done(), resolve();
        if (child.exitCode !== null || child.signalCode !== null) return done(), reject(new Error(`ferry exited before printing ${pattern}: ${output.stderr}`));
      };
      const timer = setTimeout(() => (done(), reject(new Error(`no ${pattern} on stderr within ${timeoutMs} ms: ${output.stderr}`))), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return { child, output, waitForStderr, exited };
}

/** Kills every `ferry` child still running (for `afterAll`). */
export function killFerryChildren(): void {
  for (const child of children) child.kill("SIGKILL");
}

/** A broker the tests run against, with whether it is reachable. */
export interface BrokerUnderTest {
  readonly adapter: ConformanceAdapter;
  /** True when the broker's service is unreachable and FERRY_REQUIRE_SERVICES is not 1 (throws when it is). */
  readonly skip: boolean;
}

/**
 * The real brokers (NATS, RabbitMQ, Redis) of the conformance suite: each
 * checked with `checkService` (a missing one is skipped with a one-line
 * reason, or fails the run with FERRY_REQUIRE_SERVICES=1). Their URLs carry a
 * per-process AMQP exchange and the Redis key prefix `ferry-conf:`, and
 * `cleanup(root)` removes everything created under a topic root.
 */
export async function realBrokers(): Promise<BrokerUnderTest[]> {
  const out: BrokerUnderTest[] = [];
  for (const adapter of conformanceAdapters) {
    if (adapter.service === undefined) continue;
    const check = await checkService(adapter.service.name, adapter.service.host, adapter.service.port);
    out.push({ adapter, skip: check.skip });
  }
  return out;
}

/** A library client of `adapter`'s broker, closed by the caller. */
export function libraryBroker(adapter: ConformanceAdapter): Promise<Broker> {
  return createBroker(adapter.url, { adapterOptions: adapter.adapterOptions, logger: silentLogger });
}

/** The test topic type: `ferry.test.v1.EchoRequest` messages on `name`. */
export function echoTopic(name: string): ReturnType<typeof defineTopic<typeof EchoRequestSchema>> {
  return defineTopic(name, EchoRequestSchema);
}

const silentLogger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

/** Polls `condition` every 50 ms until true; throws naming `what` after `timeoutMs` (default 20 s). */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
