import { WindowedStats, type ResolvedWindowOptions } from "./windowed-stats.js";

/**
 * A bounded table of {@link WindowedStats} keyed by a string, each with a
 * descriptive label object. When a new key would exceed `maxSeries`, the
 * least recently updated series is dropped (insertion order of a Map,
 * refreshed on every update), so a flood of distinct methods or edges
 * cannot grow memory without bound.
 */
export class SeriesTable<L> {
  readonly #maxSeries: number;
  readonly #window: ResolvedWindowOptions;
  readonly #rows = new Map<string, { label: L; stats: WindowedStats }>();

  /**
   * @param maxSeries how many series are kept at most (≥ 1).
   * @param window the bucket width and window length of every series.
   */
  constructor(maxSeries: number, window: ResolvedWindowOptions) {
    this.#maxSeries = Math.max(1, maxSeries);
    this.#window = window;
  }

  /** Records one call under `key`, creating the series with `label()` the first time. */
  record(key: string, label: () => L, atMs: number, durationMs: number, code: string, isError: boolean): void {
    let row = this.#rows.get(key);
    if (row === undefined) {
      if (this.#rows.size >= this.#maxSeries) {
        const oldest = this.#rows.keys().next().value;
        if (oldest !== undefined) this.#rows.delete(oldest);
      }
      row = { label: label(), stats: new WindowedStats(this.#window) };
    } else this.#rows.delete(key);
    this.#rows.set(key, row);
    row.stats.record(atMs, durationMs, code, isError);
  }

  /** The series under `key`, if kept. */
  get(key: string): { label: L; stats: WindowedStats } | undefined {
    return this.#rows.get(key);
  }

  /** Every series, least recently updated first. */
  entries(): IterableIterator<[string, { label: L; stats: WindowedStats }]> {
    return this.#rows.entries();
  }

  /** Drops the series under `key`. */
  delete(key: string): void {
    this.#rows.delete(key);
  }

  /** How many series are kept. */
  get size(): number {
    return this.#rows.size;
  }
}
