import type { MessagingSession } from "./contender.js";
import { stampPayload } from "./payload.js";

/** Publishes per second of run time at most, whatever the broker allows: every loop is bounded in count as well as time. */
export const MAX_PUBLISHES_PER_SECOND = 50_000;
/** Fixed-rate publishing skips a tick's messages while this many publishes await their confirmation. */
export const MAX_PACED_IN_FLIGHT = 1000;

/** What a publishing loop did. */
export interface PublishCount {
  /** Publishes confirmed by the broker. */
  readonly confirmed: number;
  /** From the first publish to the last confirmation, seconds. */
  readonly elapsedSeconds: number;
}

/**
 * Keeps `inFlight` publishes outstanding for `seconds` (each awaited for its
 * confirmation before its slot publishes again). A publish in flight at the
 * deadline is awaited and counted; the time ends with the last confirmation.
 * A failed publish rejects the loop.
 */
export async function publishFor(session: MessagingSession, options: { inFlight: number; seconds: number; runId: number }): Promise<PublishCount> {
  const start = performance.now();
  const deadline = start + options.seconds * 1000;
  const limit = Math.ceil(options.seconds * MAX_PUBLISHES_PER_SECOND);
  let started = 0;
  let confirmed = 0;
  const slot = async (): Promise<void> => {
    while (started < limit && performance.now() < deadline) {
      started++;
      await session.publish(stampPayload(options.runId, performance.now()));
      confirmed++;
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, slot));
  return { confirmed, elapsedSeconds: (performance.now() - start) / 1000 };
}

/**
 * Like {@link publishFor}, but a slot publishes only while fewer than
 * `maxOutstanding` messages are published and not yet handled (`handled`
 * counts them): the publisher cannot run away from the consumer, so the
 * handled rate is what the group sustains with a bounded backlog.
 */
export async function publishWithCredit(
  session: MessagingSession,
  options: { inFlight: number; seconds: number; runId: number; maxOutstanding: number; handledAtLeast: (count: number) => Promise<void> },
): Promise<PublishCount> {
  const start = performance.now();
  const deadline = start + options.seconds * 1000;
  const limit = Math.ceil(options.seconds * MAX_PUBLISHES_PER_SECOND);
  let started = 0;
  let confirmed = 0;
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.seconds * 1000)));
  const slot = async (): Promise<void> => {
    while (started < limit && performance.now() < deadline) {
      if (started >= options.maxOutstanding) await Promise.race([options.handledAtLeast(started - options.maxOutstanding + 1), timeUp]);
      if (performance.now() >= deadline) break;
      started++;
      await session.publish(stampPayload(options.runId, performance.now()));
      confirmed++;
    }
  };
  try {
    await Promise.all(Array.from({ length: options.inFlight }, slot));
  } finally {
    clearTimeout(timer);
  }
  return { confirmed, elapsedSeconds: (performance.now() - start) / 1000 };
}

/**
 * Publishes at `ratePerSecond` for `seconds` without waiting for
 * confirmations (a 1 ms timer sends the messages that are due, each stamped
 * with the time of its publish call), then awaits the outstanding ones.
 * While {@link MAX_PACED_IN_FLIGHT} are unconfirmed, due messages are skipped
 * and counted in `skipped`.
 */
export async function publishPaced(session: MessagingSession, options: { ratePerSecond: number; seconds: number; runId: number }): Promise<PublishCount & { skipped: number }> {
  const start = performance.now();
  let due = 0;
  let confirmed = 0;
  let skipped = 0;
  let failure: unknown;
  const pending = new Set<Promise<void>>();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const target = Math.min(Math.floor(((now - start) / 1000) * options.ratePerSecond), Math.ceil(options.seconds * options.ratePerSecond));
      for (; due < target; due++) {
        if (pending.size >= MAX_PACED_IN_FLIGHT || failure !== undefined) {
          skipped++;
          continue;
        }
        const p: Promise<void> = session.publish(stampPayload(options.runId, performance.now())).then(
          () => void confirmed++,
          (err: unknown) => void (failure ??= err),
        );
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      if (now - start >= options.seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await Promise.all(pending);
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  return { confirmed, skipped, elapsedSeconds: (performance.now() - start) / 1000 };
}

/** Drain timeout after a run: 15 s plus twice the time the backlog takes at `ratePerSecond`. */
export function drainTimeoutMs(backlog: number, ratePerSecond: number): number {
  const perMessageMs = ratePerSecond > 0 ? 1000 / ratePerSecond : 10;
  return 15_000 + 2 * backlog * perMessageMs;
}

/** Rejects with a clear error when `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

