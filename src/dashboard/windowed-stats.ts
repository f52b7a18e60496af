/**
 * Call statistics over a sliding window, in fixed time buckets: count,
 * outcomes by status code and a log-scale latency histogram per bucket, so
 * rate, error rate and p50/p90/p99 come from the same numbers for the whole
 * window and for each bucket (the Calls charts). Recording a call is O(1)
 * plus one logarithm; memory per series is bounded by the bucket count.
 */

/** How the window is cut. */
export interface WindowOptions {
  /** Width of one bucket, in ms. Default 10 000 (10 s). */
  readonly bucketMs?: number;
  /** Length of the window, in ms (rounded up to whole buckets). Default 900 000 (15 minutes). */
  readonly windowMs?: number;
}

/** {@link WindowOptions} with the defaults filled in. */
export type ResolvedWindowOptions = Required<WindowOptions>;

/** The defaults of {@link WindowOptions}. */
export const DEFAULT_WINDOW: ResolvedWindowOptions = Object.freeze({ bucketMs: 10_000, windowMs: 900_000 });

/** Latency histogram: bucket i holds durations in [MIN·G^(i-1), MIN·G^i); relative error of a percentile ≤ 12 %. */
const MIN_MS = 0.01;
const GROWTH = 1.25;
const HISTOGRAM_SIZE = 96; // up to 0.01 ms · 1.25^95 ≈ 16 minutes; longer calls land in the last bucket
const LOG_GROWTH = Math.log(GROWTH);

/** The histogram bucket of a duration. */
function histogramIndex(durationMs: number): number {
  if (!(durationMs > MIN_MS)) return 0;
  return Math.min(HISTOGRAM_SIZE - 1, 1 + Math.floor(Math.log(durationMs / MIN_MS) / LOG_GROWTH));
}

/** The representative duration of a histogram bucket (its geometric middle). */
function histogramValue(index: number): number {
  if (index === 0) return MIN_MS;
  return MIN_MS * GROWTH ** (index - 0.5);
}

/** One time bucket. */
interface Bucket {
  /** Start of the bucket, Unix ms; identifies which window slot it is. */
  startMs: number;
  count: number;
  errors: number;
  codes: Map<string, number>;
  histogram: Uint32Array;
}

/** Figures of a stretch of time (a bucket or the whole window). */
export interface StatsSummary {
  /** Calls observed. */
  readonly count: number;
  /** Calls per second over the stretch (for the window: since its oldest bucket with calls). */
  readonly ratePerSec: number;
  /** Failed calls (see `isErrorOutcome`). */
  readonly errors: number;
  /** errors / count, 0 without calls. */
  readonly errorRate: number;
  /** Calls by outcome label (`OK`, `UNAVAILABLE`, `HTTP 503`, …). */
  readonly codes: Readonly<Record<string, number>>;
  /** Latency percentiles in ms, `null` without calls. */
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
}

/** One point of a time series: the bucket's start (Unix ms) and its figures. */
export interface SeriesPoint extends StatsSummary {
  readonly startMs: number;
}

/** A sliding-window series of call outcomes and latencies. */
export class WindowedStats {
  readonly #bucketMs: number;
  readonly #slots: (Bucket | undefined)[];

  constructor(options: ResolvedWindowOptions = DEFAULT_WINDOW) {
    this.#bucketMs = options.bucketMs;
    this.#slots = new Array<Bucket | undefined>(Math.max(1, Math.ceil(options.windowMs / options.bucketMs)));
  }

  /** Records one call that ended at `atMs` (Unix ms); calls older than the window are ignored. */
  record(atMs: number, durationMs: number, code: string, isError: boolean, nowMs = Date.now()): void {
    const start = Math.floor(Math.min(atMs, nowMs) / this.#bucketMs) * this.#bucketMs;
    if (start <= nowMs - this.#slots.length * this.#bucketMs) return;
    const slot = Math.floor(start / this.#bucketMs) % this.#slots.length;
    let bucket = this.#slots[slot];
    if (bucket === undefined || bucket.startMs !== start) {
      if (bucket !== undefined && bucket.startMs > start) return; // a newer bucket owns the slot
      bucket = { startMs: start, count: 0, errors: 0, codes: new Map(), histogram: new Uint32Array(HISTOGRAM_SIZE) };
      this.#slots[slot] = bucket;
    }
    bucket.count++;
    if (isError) bucket.errors++;
    bucket.codes.set(code, (bucket.codes.get(code) ?? 0) + 1);
    bucket.histogram[histogramIndex(durationMs)]++;
  }

  /** Unix ms of the newest call recorded in the window, or `undefined` when the window is empty. */
  lastActivityMs(nowMs = Date.now()): number | undefined {
    let last: number | undefined;
    for (const b of this.#live(nowMs)) last = Math.max(last ?? 0, b.startMs + this.#bucketMs);
    return last;
  }

  /**
   * The figures of the whole window. The rate is over the time since the
   * oldest bucket with calls (at least one bucket, at most the window), so a
   * series that started a minute ago is not diluted over 15 minutes.
   */
  summary(nowMs = Date.now()): StatsSummary {
    const live = this.#live(nowMs);
    const oldest = live.reduce((min, b) => Math.min(min, b.startMs), nowMs);
    const spanMs = Math.min(this.#slots.length * this.#bucketMs, Math.max(this.#bucketMs, nowMs - oldest));
    return summarize(live, spanMs);
  }

  /** One point per bucket of the window, oldest first, empty buckets included (count 0). */
  series(nowMs = Date.now()): SeriesPoint[] {
    const byStart = new Map(this.#live(nowMs).map((b) => [b.startMs, b]));
    const newest = Math.floor(nowMs / this.#bucketMs) * this.#bucketMs;
    const points: SeriesPoint[] = [];
    for (let i = this.#slots.length - 1; i >= 0; i--) {
      const startMs = newest - i * this.#bucketMs;
      const bucket = byStart.get(startMs);
      points.push({ startMs, ...summarize(bucket === undefined ? [] : [bucket], this.#bucketMs) });
    }
    return points;
  }

  #live(nowMs: number): Bucket[] {
    const oldest = nowMs - this.#slots.length * this.#bucketMs;
    return this.#slots.filter((b): b is Bucket => b !== undefined && b.startMs > oldest);
  }
}

function summarize(buckets: readonly Bucket[], spanMs: number): StatsSummary {
  let count = 0;
  let errors = 0;
  const codes: Record<string, number> = {};
  const histogram = new Uint32Array(HISTOGRAM_SIZE);
  for (const b of buckets) {
    count += b.count;
    errors += b.errors;
    for (const [code, n] of b.codes) codes[code] = (codes[code] ?? 0) + n;
    for (let i = 0; i < HISTOGRAM_SIZE; i++) histogram[i] += b.histogram[i];
  }
  return {
    count,
    ratePerSec: count / (spanMs / 1000),
    errors,
    errorRate: count === 0 ? 0 : errors / count,
    codes,
    p50Ms: percentile(histogram, count, 0.5),
    p90Ms: percentile(histogram, count, 0.9),
    p99Ms: percentile(histogram, count, 0.99),
  };
}

/** The q-quantile of a histogram holding `count` values (nearest rank), or `null` when empty. */
function percentile(histogram: Uint32Array, count: number, q: number): number | null {
  if (count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i];
    if (seen >= rank) return histogramValue(i);
  }
  return histogramValue(histogram.length - 1);
}
