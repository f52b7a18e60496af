import { randomBytes } from "node:crypto";
import { median, percentileInPlace } from "../lib/stats.js";
import type { MessagingContender, MessagingSession } from "./contender.js";
import { ConsumeTracker } from "./consume-tracker.js";
import type { MessagingOptions } from "./options.js";
import { drainTimeoutMs, publishFor, publishPaced, publishWithCredit, withTimeout } from "./load.js";

/** Run lengths and loads of one benchmark run (see {@link MessagingOptions}). */
export type CaseSettings = Pick<MessagingOptions, "runs" | "seconds" | "warmupSeconds" | "inFlight" | "ratePerSecond" | "maxOutstanding">;

/** Medians of a `publish/<adapter>` case. */
export interface PublishFigures {
  /** Confirmed publishes per second. */
  readonly rate: number;
}

/** Medians of an `e2e/<adapter>` case. */
export interface E2eFigures {
  readonly p50Us: number;
  readonly p99Us: number;
  /** Messages handled per second in the latency runs (the fixed rate when the consumer keeps up). */
  readonly pacedRate: number;
  /** Messages handled per second through the group while publishing with `inFlight` outstanding. */
  readonly sustainedRate: number;
  /** Deliveries that were not of the current run (redeliveries), summed over runs. */
  readonly foreign: number;
  /** Paced messages skipped because too many publishes were unconfirmed, summed over runs. */
  readonly skipped: number;
}

/** A case's outcome: its figures, or why there are none. */
export type CaseOutcome<T> = { status: "ok"; figures: T } | { status: "skipped" | "error"; reason: string };

let runCounter = 0;
const nextRunId = (): number => ++runCounter;
const suffix = (): string => randomBytes(4).toString("hex");
const openTimeoutMs = 30_000;

async function withSession<T>(contender: MessagingContender, tracker: ConsumeTracker | undefined, work: (s: MessagingSession) => Promise<T>): Promise<T> {
  const session = await withTimeout(contender.open({ suffix: suffix(), onMessage: tracker?.onMessage }), openTimeoutMs, `opening ${contender.name}`);
  try {
    return await work(session);
  } finally {
    await withTimeout(session.close(), openTimeoutMs, `closing ${contender.name}`);
  }
}

/** `publish/<adapter>`: a group exists but does not consume; publishes in flight, confirmed per second. */
export async function runPublishCase(contender: MessagingContender, settings: CaseSettings): Promise<PublishFigures> {
  const bound = (seconds: number): number => seconds * 1000 + 60_000;
  return withSession(contender, undefined, async (session) => {
    const warm = { inFlight: settings.inFlight, seconds: settings.warmupSeconds, runId: nextRunId() };
    await withTimeout(publishFor(session, warm), bound(warm.seconds), "warm-up");
    const rates: number[] = [];
    for (let i = 0; i < settings.runs; i++) {
      const run = await withTimeout(publishFor(session, { inFlight: settings.inFlight, seconds: settings.seconds, runId: nextRunId() }), bound(settings.seconds), "publish run");
      rates.push(run.confirmed / run.elapsedSeconds);
    }
    return { rate: median(rates) };
  });
}

async function pacedRun(session: MessagingSession, tracker: ConsumeTracker, settings: CaseSettings, seconds: number, recording: boolean): Promise<{ p50Us: number; p99Us: number; rate: number; skipped: number }> {
  tracker.begin(nextRunId(), recording);
  const sent = await withTimeout(publishPaced(session, { ratePerSecond: settings.ratePerSecond, seconds, runId: runCounter }), seconds * 1000 + 60_000, "paced run");
  await tracker.drain(sent.confirmed, drainTimeoutMs(sent.confirmed, settings.ratePerSecond));
  const samples = tracker.samples;
  return { rate: tracker.handled / sent.elapsedSeconds, skipped: sent.skipped, p50Us: percentileInPlace(samples, 50), p99Us: percentileInPlace(samples, 99) };
}

async function sustainedRun(session: MessagingSession, tracker: ConsumeTracker, settings: CaseSettings): Promise<number> {
  tracker.begin(nextRunId(), false);
  const start = performance.now();
  const credit = { inFlight: settings.inFlight, seconds: settings.seconds, runId: runCounter, maxOutstanding: settings.maxOutstanding, handledAtLeast: (n: number) => tracker.handledAtLeast(n) };
  const sent = await withTimeout(publishWithCredit(session, credit), settings.seconds * 1000 + 60_000, "sustained run");
  tracker.endWindow();
  const windowSeconds = (performance.now() - start) / 1000;
  const rate = tracker.handledInWindow / windowSeconds;
  const backlog = sent.confirmed - tracker.handledInWindow;
  await tracker.drain(sent.confirmed, drainTimeoutMs(backlog, rate));
  return rate;
}

/**
 * `e2e/<adapter>`: one subscription in one group; latency runs publish at
 * the fixed rate (publish call to handler, p50/p99), then sustained runs
 * publish with `inFlight` in flight and at most `maxOutstanding` unhandled,
 * counting what the handler saw within the window. After each run every confirmed message must reach the handler.
 */
export async function runE2eCase(contender: MessagingContender, settings: CaseSettings): Promise<E2eFigures> {
  const tracker = new ConsumeTracker();
  return withSession(contender, tracker, async (session) => {
    let skipped = 0;
    await pacedRun(session, tracker, settings, settings.warmupSeconds, false);
    const paced = [];
    for (let i = 0; i < settings.runs; i++) paced.push(await pacedRun(session, tracker, settings, settings.seconds, true));
    const sustained = [];
    for (let i = 0; i < settings.runs; i++) sustained.push(await sustainedRun(session, tracker, settings));
    skipped += paced.reduce((n, r) => n + r.skipped, 0);
    return {
      p50Us: median(paced.map((r) => r.p50Us)),
      p99Us: median(paced.map((r) => r.p99Us)),
      pacedRate: median(paced.map((r) => r.rate)),
      sustainedRate: median(sustained),
      foreign: tracker.foreign,
      skipped,
    };
  });
}

/** Runs `work`, turning a failure into an error outcome with its message. */
export async function outcomeOf<T>(work: () => Promise<T>): Promise<CaseOutcome<T>> {
  try {
    return { status: "ok", figures: await work() };
  } catch (err) {
    return { status: "error", reason: err instanceof Error ? err.message : String(err) };
  }
}
