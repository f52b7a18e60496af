/** Latency percentiles and extremes of a run, all in milliseconds. */
export interface LatencySummary {
  /** Number of latencies recorded. */
  readonly count: number;
  readonly fastestMs: number;
  readonly slowestMs: number;
  readonly averageMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

/** One bar of the text histogram: calls that took at most `upToMs` (and more than the bar before). */
export interface HistogramBucket {
  readonly upToMs: number;
  readonly count: number;
}

/** Most samples kept for percentiles; past this, reservoir sampling keeps a uniform sample. */
const DEFAULT_MAX_SAMPLES = 1 << 23;

/**
 * Records call latencies (ms) and answers percentiles (nearest rank),
 * fastest, slowest and average, and a linear histogram between fastest and
 * slowest, like ghz's. Memory is bounded: up to `maxSamples` latencies are
 * kept (8 388 608 by default, 64 MiB); beyond that a uniform random sample
 * of that size stands for all of them (count, extremes and average stay exact).
 */
export class LatencyHistogram {
  #samples = new Float64Array(1024);
  #kept = 0;
  #count = 0;
  #sumMs = 0;
  #minMs = Infinity;
  #maxMs = -Infinity;
  #sorted: Float64Array | undefined;

  /** @param maxSamples - most latencies kept for percentiles and the histogram. */
  constructor(private readonly maxSamples = DEFAULT_MAX_SAMPLES) {}

  /** Adds one latency, in ms. */
  record(latencyMs: number): void {
    this.#count++;
    this.#sumMs += latencyMs;
    if (latencyMs < this.#minMs) this.#minMs = latencyMs;
    if (latencyMs > this.#maxMs) this.#maxMs = latencyMs;
    this.#sorted = undefined;
    if (this.#kept < this.maxSamples) {
      if (this.#kept === this.#samples.length) this.#grow();
      this.#samples[this.#kept++] = latencyMs;
      return;
    }
    const slot = Math.floor(Math.random() * this.#count);
    if (slot < this.maxSamples) this.#samples[slot] = latencyMs;
  }

  /** Latencies recorded so far. */
  get count(): number {
    return this.#count;
  }

  /** Percentiles and extremes; all zero when nothing was recorded. */
  summary(): LatencySummary {
    if (this.#count === 0) return { count: 0, fastestMs: 0, slowestMs: 0, averageMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0 };
    return {
      count: this.#count,
      fastestMs: this.#minMs,
      slowestMs: this.#maxMs,
      averageMs: this.#sumMs / this.#count,
      p50Ms: this.percentile(50),
      p90Ms: this.percentile(90),
      p99Ms: this.percentile(99),
      p999Ms: this.percentile(99.9),
    };
  }

  /**
   * The latency that `p` percent of the calls did not exceed (nearest rank), in ms.
   *
   * @param p - percent, in (0, 100].
   */
  percentile(p: number): number {
    const sorted = this.#sortedSamples();
    if (sorted.length === 0) return 0;
    // p * n first: (99.9 / 100) * 1000 is 999.0000000000001 in floating point, which would round up a rank.
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9)));
    return sorted[rank - 1];
  }

  /**
   * `buckets` equal-width buckets from fastest to slowest; each counts the
   * calls above the previous bucket's bound and at most its own (`upToMs`);
   * the first also counts the fastest call.
   * One bucket when every call took the same time; none when empty.
   */
  histogram(buckets = 10): HistogramBucket[] {
    const sorted = this.#sortedSamples();
    if (sorted.length === 0) return [];
    const lo = sorted[0];
    const hi = sorted[sorted.length - 1];
    if (hi === lo) return [{ upToMs: hi, count: this.#count }];
    const scale = this.#count / sorted.length;
    const width = (hi - lo) / buckets;
    const counts = new Array<number>(buckets).fill(0);
    for (const v of sorted) counts[Math.min(buckets - 1, Math.max(0, Math.ceil((v - lo) / width) - 1))]++;
    return counts.map((c, i) => ({ upToMs: i === buckets - 1 ? hi : lo + width * (i + 1), count: Math.round(c * scale) }));
  }

  #sortedSamples(): Float64Array {
    this.#sorted ??= this.#samples.slice(0, this.#kept).sort();
    return this.#sorted;
  }

  #grow(): void {
    const bigger = new Float64Array(Math.min(this.maxSamples, this.#samples.length * 2));
    bigger.set(this.#samples);
    this.#samples = bigger;
  }
}
