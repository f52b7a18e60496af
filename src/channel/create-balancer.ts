import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Balancer } from "./balancer.js";
import { createLeastRequestBalancer, type LeastRequestOptions } from "./least-request.js";
import { createRingHashBalancer, type RingHashOptions } from "./ring-hash.js";
import { createRoundRobinBalancer } from "./round-robin.js";
import { createWeightedRoundRobinBalancer } from "./weighted-round-robin.js";

/** Names of the built-in balancers (gRPC's load-balancing policy names where they exist). */
export type BalancerName = "round_robin" | "least_request" | "ring_hash" | "weighted_round_robin";

/** Options of {@link createBalancer}: those of the chosen balancer. */
export type BalancerConfig = LeastRequestOptions & RingHashOptions;

const builders: Record<BalancerName, (config: BalancerConfig) => Balancer> = {
  round_robin: () => createRoundRobinBalancer(),
  least_request: (c) => createLeastRequestBalancer(c),
  ring_hash: (c) => createRingHashBalancer(c),
  weighted_round_robin: () => createWeightedRoundRobinBalancer(),
};

/**
 * A built-in balancer by name: `round_robin` (the default of channels),
 * `least_request` (P2C with latency EWMA), `ring_hash` (consistent hashing on
 * `hashHeader`), `weighted_round_robin` (by endpoint weight).
 *
 * @throws FerryError INVALID_ARGUMENT for an unknown name or a bad option.
 */
export function createBalancer(name: string, config: BalancerConfig = {}): Balancer {
  const build = Object.hasOwn(builders, name) ? builders[name as BalancerName] : undefined;
  if (build === undefined) {
    throw new FerryError(Code.INVALID_ARGUMENT, `unknown balancer "${name}" (known: ${Object.keys(builders).join(", ")})`);
  }
  return build(config);
}
