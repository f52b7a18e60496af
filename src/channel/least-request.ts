import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Balancer, BalancedSubchannel, BalancerPicker } from "./balancer.js";

/** Options of {@link createLeastRequestBalancer}. */
export interface LeastRequestOptions {
  /** Subchannels sampled per pick (Envoy's `choice_count`, gRFC A48); integer ≥ 2. Default 2. */
  choiceCount?: number;
  /** Source of uniform numbers in [0, 1). Default `Math.random`; inject one in tests. */
  random?: () => number;
}

/** Default {@link LeastRequestOptions.choiceCount}: 2 (power of two choices). */
export const DEFAULT_CHOICE_COUNT = 2;

/**
 * The load score of a subchannel: `(activeCalls + 1) × latency`, the "peak
 * EWMA" cost of Finagle's P2C balancer. A subchannel without a latency sample
 * borrows `fallbackMs` (the other candidate's latency), so unknown endpoints
 * compete on active calls alone.
 */
function score(s: BalancedSubchannel, fallbackMs: number): number {
  return (s.activeCalls + 1) * (s.latencyEwmaMs ?? fallbackMs);
}

/**
 * Power-of-two-choices least request (gRFC A48, Envoy's `LEAST_REQUEST`,
 * weighted by latency as Finagle's P2C with peak EWMA): each pick samples
 * `choiceCount` distinct ready subchannels at random and takes the one with
 * the lowest `(activeCalls + 1) × latencyEwmaMs`; ties go to the first
 * sampled. This avoids both herding on one "best" endpoint and the cost of
 * scanning them all.
 *
 * @throws FerryError INVALID_ARGUMENT when `choiceCount` is not an integer ≥ 2.
 */
export function createLeastRequestBalancer(options: LeastRequestOptions = {}): Balancer {
  const choiceCount = options.choiceCount ?? DEFAULT_CHOICE_COUNT;
  if (!Number.isInteger(choiceCount) || choiceCount < 2) {
    throw new FerryError(Code.INVALID_ARGUMENT, `least_request: choiceCount must be an integer >= 2, got ${choiceCount}`);
  }
  const random = options.random ?? Math.random;
  return {
    name: "least_request",
    createPicker<S extends BalancedSubchannel>(ready: readonly S[]): BalancerPicker<S> {
      const list = [...ready];
      const n = list.length;
      if (n === 1) return { pick: () => list[0] };
      const k = Math.min(choiceCount, n);
      return { pick: () => (k === 2 ? pickTwo(list, random) : pickK(list, k, random)) };
    },
  };
}

/** The better of two distinct random subchannels. */
function pickTwo<S extends BalancedSubchannel>(list: readonly S[], random: () => number): S {
  const n = list.length;
  const i = Math.floor(random() * n);
  let j = Math.floor(random() * (n - 1));
  if (j >= i) j++;
  return better(list[i], list[j]);
}

/** The best of `k` distinct random subchannels (partial Fisher-Yates shuffle of indices). */
function pickK<S extends BalancedSubchannel>(list: readonly S[], k: number, random: () => number): S {
  const n = list.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  let best: S | undefined;
  for (let m = 0; m < k; m++) {
    const r = m + Math.floor(random() * (n - m));
    [idx[m], idx[r]] = [idx[r], idx[m]];
    const c = list[idx[m]];
    best = best === undefined ? c : better(best, c);
  }
  return best as S;
}

/** `a` unless `b` has a strictly lower score. */
function better<S extends BalancedSubchannel>(a: S, b: S): S {
  const la = a.latencyEwmaMs ?? b.latencyEwmaMs ?? 1;
  const lb = b.latencyEwmaMs ?? a.latencyEwmaMs ?? 1;
  return score(b, lb) < score(a, la) ? b : a;
}
