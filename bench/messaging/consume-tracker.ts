import { readStamp } from "./payload.js";

/** Latency samples kept per run at most (the rest are counted, not sampled). */
export const MAX_SAMPLES = 1_000_000;

/**
 * The consumer side of a run: counts the current run's messages as the
 * handler sees them, keeps their publish-to-handler latencies (µs) when
 * asked, and counts those handled before the run's window ended. Messages of
 * an earlier run (their stamp carries its id) are ignored.
 */
export class ConsumeTracker {
  #runId = 0;
  #recording = false;
  #windowEnd = Number.POSITIVE_INFINITY;
  /** Messages of the current run handled so far. */
  handled = 0;
  /** Of those, handled before the window ended. */
  handledInWindow = 0;
  /** Messages of other runs or not stamped (for example redeliveries after a run moved on). */
  foreign = 0;
  /** Latency samples of the current run, µs. */
  samples: number[] = [];
  #waiters: { count: number; resolve: () => void }[] = [];

  /** The handler given to the contender. */
  readonly onMessage = (payload: Uint8Array): void => {
    const now = performance.now();
    const stamp = readStamp(payload);
    if (stamp === undefined || stamp.runId !== this.#runId) {
      this.foreign++;
      return;
    }
    this.handled++;
    if (now <= this.#windowEnd) this.handledInWindow++;
    if (this.#recording && this.samples.length < MAX_SAMPLES) this.samples.push((now - stamp.sentAt) * 1000);
    if (this.#waiters.length > 0) this.#wake();
  };

  #wake(): void {
    const ready = this.#waiters.filter((w) => w.count <= this.handled);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.count > this.handled);
    for (const w of ready) w.resolve();
  }

  /** Resolves once `count` messages of the current run were handled (at once when they were). */
  handledAtLeast(count: number): Promise<void> {
    if (this.handled >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Starts run `runId`: resets the counts; `recording` keeps latencies. */
  begin(runId: number, recording: boolean): void {
    this.#runId = runId;
    this.#recording = recording;
    this.#windowEnd = Number.POSITIVE_INFINITY;
    this.handled = 0;
    this.handledInWindow = 0;
    this.samples = [];
    const stale = this.#waiters;
    this.#waiters = [];
    for (const w of stale) w.resolve();
  }

  /** Ends the measured window now: messages handled later count in `handled` only. */
  endWindow(): void {
    this.#windowEnd = performance.now();
  }

  /**
   * Waits until `expected` messages of the run were handled; rejects when
   * that takes longer than `timeoutMs` (a message lost or stuck).
   */
  async drain(expected: number, timeoutMs: number): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (this.handled < expected) {
      if (performance.now() > until) {
        throw new Error(`${expected - this.handled} of ${expected} confirmed messages not handled within ${(timeoutMs / 1000).toFixed(0)} s of the run's end`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
