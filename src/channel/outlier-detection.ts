import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/**
 * Options of outlier detection (gRFC A50 and Envoy's outlier detection, where
 * they overlap). Times in milliseconds, percentages 0–100.
 */
export interface OutlierDetectionOptions {
  /**
   * Status codes that count as a failure of the endpoint. Default
   * {@link DEFAULT_OUTLIER_FAILURE_CODES}: UNAVAILABLE (includes connection
   * errors), UNKNOWN, INTERNAL, DATA_LOSS — the server-side failures; not
   * application errors (NOT_FOUND, INVALID_ARGUMENT…), cancellations or
   * deadlines (which depend on the caller).
   */
  failureCodes?: readonly Code[];
  /** Consecutive failures that eject an endpoint at once (Envoy's `consecutive_5xx`); 0 turns it off. Default 5. */
  consecutiveFailures?: number;
  /**
   * Failure percentage at or above which an endpoint is ejected at the end of
   * an interval (gRFC A50 `failure_percentage_ejection.threshold`); 0 turns
   * the failure-rate check off. Default 85.
   */
  failureRateThreshold?: number;
  /** Calls an endpoint needs in the interval for its failure rate to count (A50 `request_volume`). Default 50. */
  failureRateMinimumCalls?: number;
  /** Endpoints with enough calls needed before any is ejected by failure rate (A50 `minimum_hosts`). Default 5. */
  failureRateMinimumHosts?: number;
  /** Period of the failure-rate check, of restoring endpoints and of decreasing ejection multipliers (A50 `interval`). Default 10,000. */
  intervalMs?: number;
  /** Ejection time of a first ejection; the n-th consecutive ejection lasts n times longer (A50 `base_ejection_time`). Default 30,000. */
  baseEjectionTimeMs?: number;
  /** Longest ejection time (A50 `max_ejection_time`; at least `baseEjectionTimeMs`). Default 300,000. */
  maxEjectionTimeMs?: number;
  /** An endpoint is ejected only while fewer than this percentage of endpoints are ejected (A50 `max_ejection_percent`). Default 10. */
  maxEjectionPercent?: number;
}

/** Default {@link OutlierDetectionOptions.failureCodes}. */
export const DEFAULT_OUTLIER_FAILURE_CODES: readonly Code[] = [Code.UNAVAILABLE, Code.UNKNOWN, Code.INTERNAL, Code.DATA_LOSS];

/** Why an endpoint was ejected. */
export type EjectionReason = "consecutive-failures" | "failure-rate";

/** Details of one ejection. */
export interface EjectionInfo {
  readonly reason: EjectionReason;
  /** How long the endpoint stays ejected, in ms. */
  readonly ejectionTimeMs: number;
  /** Back-to-back ejections so far, this one included (the ejection time multiplier). */
  readonly ejections: number;
  /** Failures and calls counted in the current interval. */
  readonly failures: number;
  readonly calls: number;
}

/** Receives ejections and restorations. */
export interface OutlierListener {
  onEjected(url: string, info: EjectionInfo): void;
  onRestored(url: string): void;
}

interface Stats {
  calls: number;
  failures: number;
  consecutive: number;
  /** Number of back-to-back ejections; decreases each interval the endpoint is not ejected. */
  multiplier: number;
  ejectedUntil: number | undefined;
}

type Resolved = Required<Omit<OutlierDetectionOptions, "failureCodes">> & { failureCodes: ReadonlySet<Code> };

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new FerryError(Code.INVALID_ARGUMENT, `outlier detection: ${what}, got ${String(value)}`);
}

function resolve(o: OutlierDetectionOptions): Resolved {
  const r = {
    failureCodes: new Set(o.failureCodes ?? DEFAULT_OUTLIER_FAILURE_CODES),
    consecutiveFailures: o.consecutiveFailures ?? 5,
    failureRateThreshold: o.failureRateThreshold ?? 85,
    failureRateMinimumCalls: o.failureRateMinimumCalls ?? 50,
    failureRateMinimumHosts: o.failureRateMinimumHosts ?? 5,
    intervalMs: o.intervalMs ?? 10_000,
    baseEjectionTimeMs: o.baseEjectionTimeMs ?? 30_000,
    maxEjectionTimeMs: o.maxEjectionTimeMs ?? 300_000,
    maxEjectionPercent: o.maxEjectionPercent ?? 10,
  };
  check(Number.isInteger(r.consecutiveFailures) && r.consecutiveFailures >= 0, "consecutiveFailures must be an integer >= 0", r.consecutiveFailures);
  check(r.failureRateThreshold >= 0 && r.failureRateThreshold <= 100, "failureRateThreshold must be in 0..100", r.failureRateThreshold);
  check(Number.isInteger(r.failureRateMinimumCalls) && r.failureRateMinimumCalls >= 1, "failureRateMinimumCalls must be an integer >= 1", r.failureRateMinimumCalls);
  check(Number.isInteger(r.failureRateMinimumHosts) && r.failureRateMinimumHosts >= 1, "failureRateMinimumHosts must be an integer >= 1", r.failureRateMinimumHosts);
  check(r.intervalMs >= 1 && Number.isFinite(r.intervalMs), "intervalMs must be a finite number >= 1", r.intervalMs);
  check(r.baseEjectionTimeMs >= 1 && Number.isFinite(r.baseEjectionTimeMs), "baseEjectionTimeMs must be a finite number >= 1", r.baseEjectionTimeMs);
  check(r.maxEjectionTimeMs >= 1 && Number.isFinite(r.maxEjectionTimeMs), "maxEjectionTimeMs must be a finite number >= 1", r.maxEjectionTimeMs);
  check(r.maxEjectionPercent >= 0 && r.maxEjectionPercent <= 100, "maxEjectionPercent must be in 0..100", r.maxEjectionPercent);
  for (const c of r.failureCodes) check(Number.isInteger(c) && c > Code.OK && c <= Code.UNAUTHENTICATED, "failureCodes must be non-OK status codes", c);
  return r;
}

/**
 * Outlier detection: tracks each endpoint's call outcomes and ejects
 * endpoints that fail — at once after `consecutiveFailures` failures in a
 * row, or at the end of an interval when their failure percentage reaches
 * `failureRateThreshold` — for `baseEjectionTimeMs × n` (n = back-to-back
 * ejections, capped by `maxEjectionTimeMs`), as gRFC A50 defines it. Never
 * more than `maxEjectionPercent` of the endpoints are ejected (checked
 * before each ejection, so one endpoint can always be ejected). Ejected
 * endpoints are restored at the first interval tick after their time is up.
 *
 * The interval timer runs only while endpoints are tracked and does not keep
 * the process alive; {@link close} stops it.
 */
export class OutlierDetector {
  readonly #o: Resolved;
  readonly #stats = new Map<string, Stats>();
  #timer: NodeJS.Timeout | undefined;

  /** @throws FerryError INVALID_ARGUMENT for an out-of-range option. */
  constructor(
    options: OutlierDetectionOptions,
    private readonly listener: OutlierListener,
    private readonly now: () => number = Date.now,
  ) {
    this.#o = resolve(options);
  }

  /** Starts tracking exactly these endpoint URLs (others are forgotten). */
  setEndpoints(urls: Iterable<string>): void {
    const keep = new Set(urls);
    for (const url of this.#stats.keys()) if (!keep.has(url)) this.#stats.delete(url);
    for (const url of keep) if (!this.#stats.has(url)) this.#stats.set(url, { calls: 0, failures: 0, consecutive: 0, multiplier: 0, ejectedUntil: undefined });
    if (this.#stats.size === 0) this.#stopTimer();
    else if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.tick(), this.#o.intervalMs);
      this.#timer.unref();
    }
  }

  /** True when `url` is ejected. */
  isEjected(url: string): boolean {
    return this.#stats.get(url)?.ejectedUntil !== undefined;
  }

  /** Number of ejected endpoints. */
  get ejectedCount(): number {
    let n = 0;
    for (const s of this.#stats.values()) if (s.ejectedUntil !== undefined) n++;
    return n;
  }

  /** Records the outcome of one call to `url` (`code` OK for a success). */
  record(url: string, code: Code): void {
    const s = this.#stats.get(url);
    if (s === undefined) return;
    s.calls++;
    if (!this.#o.failureCodes.has(code)) {
      s.consecutive = 0;
      return;
    }
    s.failures++;
    s.consecutive++;
    const limit = this.#o.consecutiveFailures;
    if (limit > 0 && s.consecutive >= limit && s.ejectedUntil === undefined) this.#eject(url, s, "consecutive-failures");
  }

  /** One interval: failure-rate ejections, restorations, multiplier decay, counters reset. Called by the timer. */
  tick(): void {
    const now = this.now();
    this.#failureRateCheck();
    for (const [url, s] of this.#stats) {
      if (s.ejectedUntil !== undefined && now >= s.ejectedUntil) {
        s.ejectedUntil = undefined;
        s.consecutive = 0;
        this.listener.onRestored(url);
      } else if (s.ejectedUntil === undefined && s.multiplier > 0) {
        s.multiplier--;
      }
      s.calls = 0;
      s.failures = 0;
    }
  }

  /** Stops the timer and forgets every endpoint. */
  close(): void {
    this.#stopTimer();
    this.#stats.clear();
  }

  #failureRateCheck(): void {
    const o = this.#o;
    if (o.failureRateThreshold === 0) return;
    const candidates = [...this.#stats].filter(([, s]) => s.calls >= o.failureRateMinimumCalls);
    if (candidates.length < o.failureRateMinimumHosts) return;
    for (const [url, s] of candidates) {
      if (s.ejectedUntil === undefined && (s.failures * 100) / s.calls >= o.failureRateThreshold) this.#eject(url, s, "failure-rate");
    }
  }

  #eject(url: string, s: Stats, reason: EjectionReason): void {
    if ((this.ejectedCount * 100) / this.#stats.size >= this.#o.maxEjectionPercent) return;
    s.multiplier++;
    const ejectionTimeMs = Math.min(this.#o.baseEjectionTimeMs * s.multiplier, Math.max(this.#o.baseEjectionTimeMs, this.#o.maxEjectionTimeMs));
    s.ejectedUntil = this.now() + ejectionTimeMs;
    this.listener.onEjected(url, { reason, ejectionTimeMs, ejections: s.multiplier, failures: s.failures, calls: s.calls });
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
