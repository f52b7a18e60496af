import { setMaxListeners } from "node:events";
import type { DescMethod, Message } from "@bufbuild/protobuf";
import cliProgress from "cli-progress";
import { runBench, type BenchPlan, type BenchProgress, type BenchResult } from "./bench-runner.js";
import { benchJson, benchText } from "./bench-report.js";
import { CliExitStatus, CliUsageError } from "./cli-error.js";
import { addConnectionOptions, openSession, type ConnectionFlags } from "./cli-session.js";
import { parseDurationMs, parseIntegerFlag } from "./duration.js";
import { createMethodCaller } from "./method-caller.js";
import { resolveMethod } from "./method-ref.js";
import type { CliIo, CommandInstaller } from "./program.js";
import { requestValues, toRequestMessages } from "./request-input.js";

/** Calls made when neither `-n` nor `-z` is given. */
export const DEFAULT_BENCH_CALLS = 200;
/** Calls in flight at once without `-c` (ghz's default). */
export const DEFAULT_BENCH_CONCURRENCY = 50;
/** Largest `-c`. */
export const MAX_BENCH_CONCURRENCY = 1000;
/** Largest `-n`. */
export const MAX_BENCH_CALLS = 10_000_000;
/** Longest `-z`, in ms (one hour). */
export const MAX_BENCH_DURATION_MS = 3_600_000;
/** Exit status of a run stopped with Ctrl-C (SIGINT), after its report: 128 + 2, as shells report it. */
export const EXIT_INTERRUPTED = 130;
/** Deadline of each call without `--timeout`, in ms (ghz's default). */
export const DEFAULT_BENCH_TIMEOUT_MS = 20_000;

/** Flags of `ferry bench`, as commander parses them. */
interface BenchFlags extends ConnectionFlags {
  data?: string;
  concurrency?: string;
  calls?: string;
  duration?: string;
  rps?: string;
  json?: boolean;
}

const EXAMPLES = `
Examples:
  $ ferry bench 127.0.0.1:50051 shop.v1.InventoryService/GetProduct -d '{"sku":"KB-001"}'
  $ ferry bench 127.0.0.1:50051 shop.v1.InventoryService/ListProducts -c 64 -z 10s
  $ ferry bench 127.0.0.1:50051 shop.v1.InventoryService/GetProduct -d '{"sku":"KB-001"}' -n 1000 --rps 200 --json

Runs -c workers that call the method back to back until -n calls are made or -z has passed
(default -n ${DEFAULT_BENCH_CALLS}; with both, whichever comes first), then prints the count, duration, calls per
second, latency percentiles, a histogram and the count of each status code. A progress bar shows
on stderr when it is a terminal. --json prints one JSON object instead. Failed calls are counted,
not fatal: the exit status is 0 once the run completes (2 for bad usage; the gRPC status code when
the method cannot be resolved). Ctrl-C cancels the calls in flight, prints the report so far and
exits 130.`;

/** Installs `ferry bench TARGET METHOD`: a ghz-like load run with latency percentiles and status counts. */
export const installBenchCommand: CommandInstaller = (program, io) => {
  const command = program
    .command("bench")
    .description("load-test a method: calls/s, latency percentiles, histogram, status codes")
    .argument("<target>", "host:port (gRPC, cleartext) or a Ferry URL such as grpcs://host:port or native://host:port")
    .argument("<method>", "SERVICE/METHOD, e.g. shop.v1.InventoryService/GetProduct")
    .option("-d, --data <json>", "request JSON of every call (@FILE reads a file; several objects for client streaming)")
    .option("-c, --concurrency <n>", `calls in flight at once, 1–${MAX_BENCH_CONCURRENCY} (default ${DEFAULT_BENCH_CONCURRENCY})`)
    .option("-n, --calls <n>", `total calls, 1–${MAX_BENCH_CALLS} (default ${DEFAULT_BENCH_CALLS} unless -z)`)
    .option("-z, --duration <duration>", "run for this long, at most 1h (e.g. 10s)")
    .option("--rps <n>", "start at most N calls per second")
    .option("--json", "print one JSON object (for scripts) instead of the report");
  addConnectionOptions(command, `deadline of each call (default ${DEFAULT_BENCH_TIMEOUT_MS / 1000}s)`)
    .addHelpText("after", EXAMPLES)
    .action((target: string, method: string, flags: BenchFlags) => runBenchCommand(io, target, method, flags));
};

/** The run's bounds from `-c`, `-n`, `-z` and `--rps`. @throws CliUsageError for values out of range. */
function parseBounds(flags: BenchFlags): Pick<BenchPlan, "concurrency" | "totalCalls" | "durationMs" | "rps"> {
  const durationMs = flags.duration === undefined ? undefined : parseDurationMs(flags.duration, "-z");
  if (durationMs !== undefined && durationMs > MAX_BENCH_DURATION_MS) throw new CliUsageError(`-z: at most 1h, got "${flags.duration}"`);
  const concurrency = flags.concurrency === undefined ? DEFAULT_BENCH_CONCURRENCY : parseIntegerFlag(flags.concurrency, "-c", 1, MAX_BENCH_CONCURRENCY);
  const totalCalls = flags.calls !== undefined ? parseIntegerFlag(flags.calls, "-n", 1, MAX_BENCH_CALLS) : durationMs === undefined ? DEFAULT_BENCH_CALLS : undefined;
  const rps = flags.rps === undefined ? undefined : parseIntegerFlag(flags.rps, "--rps", 1, 1_000_000);
  return { concurrency, totalCalls, durationMs, rps };
}

async function benchRequests(method: DescMethod, requests: AsyncIterable<Message>): Promise<Message[]> {
  const list: Message[] = [];
  for await (const r of requests) list.push(r);
  const single = method.methodKind === "unary" || method.methodKind === "server_streaming";
  if (single && list.length !== 1) throw new CliUsageError(`${method.parent.typeName}/${method.name} takes one request; -d gave ${list.length}`);
  return list;
}

async function runBenchCommand(io: CliIo, target: string, methodText: string, flags: BenchFlags): Promise<void> {
  const bounds = parseBounds(flags);
  if (flags.data === "-") throw new CliUsageError("bench: -d - is not supported (every call sends the same requests); use -d JSON or -d @FILE");
  const session = await openSession(target, flags, DEFAULT_BENCH_TIMEOUT_MS);
  try {
    const { method, registry } = await resolveMethod(session.source, methodText);
    const requestStream = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    const requests = await benchRequests(method, toRequestMessages(requestValues(flags.data ?? "{}", io.stdin, requestStream), method.input, registry));
    // Ctrl-C stops the run: calls in flight are cancelled, the report covers what ran, exit status 130.
    const interrupt = new AbortController();
    setMaxListeners(0, interrupt.signal); // every call in flight listens to it: up to MAX_BENCH_CONCURRENCY
    const onSigint = () => interrupt.abort();
    process.once("SIGINT", onSigint);
    const plan: BenchPlan = { ...bounds, caller: createMethodCaller(method, session.transport), requests, callOptions: session.callOptions, signal: interrupt.signal };
    const result = await withProgress(io, plan, (onStart) => runBench(plan, onStart)).finally(() => process.removeListener("SIGINT", onSigint));
    const setup = { target, method: `${method.parent.typeName}/${method.name}`, concurrency: Math.min(plan.concurrency, plan.totalCalls ?? Infinity) };
    io.stdout.write(flags.json ? `${JSON.stringify(benchJson(setup, result))}\n` : benchText(setup, result, io.stdout.isTTY === true));
    if (interrupt.signal.aborted) throw new CliExitStatus(EXIT_INTERRUPTED);
  } finally {
    await session.close();
  }
}

/** Runs `run` with a live progress bar on stderr when stderr is a terminal. */
async function withProgress(io: CliIo, plan: BenchPlan, run: (onStart: (progress: () => BenchProgress) => void) => Promise<BenchResult>): Promise<BenchResult> {
  if (io.stderr.isTTY !== true) return run(() => {});
  const byCalls = plan.totalCalls !== undefined;
  const total = byCalls ? plan.totalCalls! : Math.ceil(plan.durationMs! / 1000);
  const bar = new cliProgress.SingleBar(
    { stream: io.stderr, format: `{bar} {percentage}% | {value}/{total} ${byCalls ? "calls" : "s"} | {done} done`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    return await run((progress) => {
      bar.start(total, 0, { done: 0 });
      timer = setInterval(() => {
        const p = progress();
        bar.update(Math.min(total, byCalls ? p.done : Math.floor(p.elapsedMs / 1000)), { done: p.done });
      }, 100);
    });
  } finally {
    if (timer !== undefined) clearInterval(timer);
    bar.stop();
  }
}
