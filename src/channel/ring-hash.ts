import { Code } from "../rpc/code.js";
import type { AnyRequest } from "../rpc/call.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Balancer, BalancedSubchannel, BalancerPicker } from "./balancer.js";
import { hash32 } from "./hash32.js";

/** Options of {@link createRingHashBalancer}. */
export interface RingHashOptions {
  /**
   * Request metadata key whose value is hashed (lower case), e.g. a user or
   * cart id. Default `"x-hash-key"`. A call without it goes to a random point
   * of the ring (as gRFC A42 does when a request has no hash).
   */
  hashHeader?: string;
  /**
   * Ring entries (virtual nodes) per unit of endpoint weight; integer
   * 1…65,536. Default 160 (Ketama's). Each endpoint gets
   * `max(1, round(weight × virtualNodes))` entries, at most 65,536: a count
   * that does not depend on the other endpoints, so adding or removing one
   * endpoint moves only the keys it gains or loses.
   */
  virtualNodes?: number;
  /** Source of uniform numbers in [0, 1) for calls without a key. Default `Math.random`. */
  random?: () => number;
}

/** Default {@link RingHashOptions.hashHeader}. */
export const DEFAULT_HASH_HEADER = "x-hash-key";
/** Default {@link RingHashOptions.virtualNodes}. */
export const DEFAULT_VIRTUAL_NODES = 160;
const MAX_NODES = 65_536;

interface Ring<S> {
  readonly hashes: Uint32Array;
  readonly owners: readonly S[];
}

/**
 * Consistent hashing on a ring (gRFC A42 `ring_hash`, Karger et al.): every
 * endpoint owns virtual nodes on a 32-bit ring, in proportion to its weight,
 * at positions derived from its URL; a call goes to the owner of the first
 * node at or after the hash of its key. Calls with the same key go to the same
 * endpoint while it is ready, and when an endpoint leaves (removed, failing or
 * ejected) only the keys it owned move — to the next node's owners — while
 * every other key stays where it was.
 *
 * Unlike gRFC A42, which scales the ring to a minimum size and so shifts
 * some keys between the remaining endpoints when the set changes, the
 * number of entries per endpoint is fixed by its weight (Ketama's scheme).
 *
 * @throws FerryError INVALID_ARGUMENT for a bad `hashHeader` or `virtualNodes`.
 */
export function createRingHashBalancer(options: RingHashOptions = {}): Balancer {
  const header = (options.hashHeader ?? DEFAULT_HASH_HEADER).toLowerCase();
  const virtualNodes = options.virtualNodes ?? DEFAULT_VIRTUAL_NODES;
  if (!/^[0-9a-z_.-]+$/.test(header)) throw new FerryError(Code.INVALID_ARGUMENT, `ring_hash: invalid hashHeader "${options.hashHeader}"`);
  if (!Number.isInteger(virtualNodes) || virtualNodes < 1 || virtualNodes > MAX_NODES) {
    throw new FerryError(Code.INVALID_ARGUMENT, `ring_hash: virtualNodes must be an integer in 1..${MAX_NODES}, got ${virtualNodes}`);
  }
  const random = options.random ?? Math.random;
  return {
    name: "ring_hash",
    createPicker<S extends BalancedSubchannel>(ready: readonly S[]): BalancerPicker<S> {
      const ring = buildRing(ready, virtualNodes);
      return {
        pick: (request: AnyRequest) => {
          const key = request.metadata.getText(header);
          const h = key !== undefined ? hash32(key) : Math.floor(random() * 0x1_0000_0000);
          return ring.owners[lowerBound(ring.hashes, h)];
        },
      };
    },
  };
}

/** `round(weight × virtualNodes)` entries per endpoint (1…65,536), at positions hashed from its URL. */
function buildRing<S extends BalancedSubchannel>(ready: readonly S[], virtualNodes: number): Ring<S> {
  const entries: { hash: number; owner: S }[] = [];
  for (const s of ready) {
    const count = Math.min(MAX_NODES, Math.max(1, Math.round(s.endpoint.weight * virtualNodes)));
    for (let i = 0; i < count; i++) entries.push({ hash: hash32(`${s.endpoint.url}_${i}`), owner: s });
  }
  // Ties broken by URL so the ring does not depend on the order of `ready`.
  entries.sort((a, b) => a.hash - b.hash || (a.owner.endpoint.url < b.owner.endpoint.url ? -1 : 1));
  return { hashes: Uint32Array.from(entries, (e) => e.hash), owners: entries.map((e) => e.owner) };
}

/** Index of the first entry ≥ h, wrapping to 0 past the end. */
function lowerBound(hashes: Uint32Array, h: number): number {
  let lo = 0;
  let hi = hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hashes[mid] < h) lo = mid + 1;
    else hi = mid;
  }
  return lo === hashes.length ? 0 : lo;
}
