/**
 * The consistency suite of `npm run bench` (`--suite=consistency`, or with
 * every suite): the outbox relay against direct publishing on NATS
 * JetStream, on PostgreSQL and PGlite, the commit-to-confirm latency with
 * LISTEN/NOTIFY, and a saga step over a plain call. Needs PostgreSQL on
 * 127.0.0.1:5432 and NATS on 127.0.0.1:4222 (FERRY_BENCH_POSTGRES_URL,
 * FERRY_BENCH_NATS_URL). Options: `--rows=N` (events per relay measurement,
 * default 5000), `--iterations=N` (sagas per store, default 200).
 * Prints one markdown table with the ratios and issue 14's targets.
 */
import { benchRelay } from "./relay-bench.js";
import { benchSaga } from "./saga-bench.js";

/** Consistency suite options taken from `argv` (others are left for the other suites). */
export function consistencyOptions(argv: readonly string[]): { rows: number; iterations: number } {
  const value = (name: string, fallback: number) => {
    const arg = argv.find((a) => a.startsWith(`--${name}=`));
    const n = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer ≥ 1, got "${arg}"`);
    return n;
  };
  return { rows: value("rows", 5000), iterations: value("iterations", 200) };
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/** Runs the suite and prints its table; resolves with the process exit code (1 when a measurement failed). */
export async function runConsistency(argv: readonly string[]): Promise<number> {
  try {
    const { rows, iterations } = consistencyOptions(argv);
    process.stderr.write(`bench: consistency: relay, ${rows} events per measurement …\n`);
    const relay = await benchRelay(rows);
    process.stderr.write(`bench: consistency: sagas, ${iterations} per store …\n`);
    const sagas = await benchSaga(iterations);
    const lines = [
      `### Consistency: outbox relay and sagas (NATS JetStream; direct publish ${relay.directPerSecond.toFixed(0)} msgs/s with 100 in flight)`,
      "",
      "| store | relay events/s | relay / direct (target ≥ 50%) | 10 ordering keys, events/s | commit → confirm p50 (target < 10 ms) | p99 | one-step saga p50 | added over a plain call |",
      "|---|---|---|---|---|---|---|---|",
      ...relay.stores.map((s) => {
        const g = sagas.find((x) => x.store === s.store)!;
        return `| ${s.store} | ${s.eventsPerSecond.toFixed(0)} | ${pct(s.eventsPerSecond / relay.directPerSecond)} | ${s.keyedEventsPerSecond.toFixed(0)} | ${s.commitToConfirmP50Ms.toFixed(1)} ms | ${s.commitToConfirmP99Ms.toFixed(1)} ms | ${(g.sagaP50Us / 1000).toFixed(2)} ms | +${((g.sagaP50Us - g.plainCallP50Us) / 1000).toFixed(2)} ms |`;
      }),
    ];
    process.stdout.write(`\n${lines.join("\n")}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`bench: consistency failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/**
 * Takes the consistency suite's flags out of `argv` for bench/run.ts:
 * `--suite=consistency` runs only it (`only`); `--suite=all` or no `--suite`
 * runs it after the others (`also`, when they run every suite); any other
 * `--suite` leaves it out. `--rows=` and `--iterations=` are its own.
 */
export function takeConsistencySuite(argv: readonly string[]): { consistency: "only" | "also" | "no"; argv: string[]; own: string[] } {
  const own = argv.filter((a) => a.startsWith("--rows=") || a.startsWith("--iterations="));
  const rest = argv.filter((a) => !own.includes(a));
  const suite = rest.filter((a) => a.startsWith("--suite=")).pop();
  if (suite === "--suite=consistency") return { consistency: "only", argv: rest.filter((a) => a !== suite), own };
  return { consistency: suite === undefined || suite === "--suite=all" ? "also" : "no", argv: rest, own };
}
