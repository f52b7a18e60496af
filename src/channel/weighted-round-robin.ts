import type { Balancer, BalancedSubchannel, BalancerPicker } from "./balancer.js";

/**
 * Weighted round robin by each endpoint's `weight` (registry metadata
 * `weight`, default 1), with nginx's smooth weighted round robin: every pick
 * adds each subchannel's weight to its running credit, takes the subchannel
 * with the most credit and takes the total weight off it. Over any window of
 * `sum(weights)` calls each endpoint gets exactly its share, spread out
 * rather than in bursts (weights 5,1,1 give a a b a c a a, not a a a a a b c).
 * Each pick costs O(number of ready subchannels).
 */
export function createWeightedRoundRobinBalancer(): Balancer {
  return {
    name: "weighted_round_robin",
    createPicker<S extends BalancedSubchannel>(ready: readonly S[]): BalancerPicker<S> {
      const list = [...ready];
      const weights = list.map((s) => s.endpoint.weight);
      const total = weights.reduce((a, b) => a + b, 0);
      const credit = new Float64Array(list.length);
      return {
        pick: () => {
          let best = 0;
          for (let i = 0; i < list.length; i++) {
            credit[i] += weights[i];
            if (credit[i] > credit[best]) best = i;
          }
          credit[best] -= total;
          return list[best];
        },
      };
    },
  };
}
