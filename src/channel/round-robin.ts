import type { Balancer, BalancedSubchannel, BalancerPicker } from "./balancer.js";

/**
 * Round robin (gRPC's `round_robin`): each call goes to the next ready
 * subchannel in turn. The position starts at a random index and carries over
 * from one picker to the next, so frequent picker rebuilds do not send the
 * first calls after each change to the same endpoint.
 */
export function createRoundRobinBalancer(): Balancer {
  let next = Math.floor(Math.random() * 1_000_000);
  return {
    name: "round_robin",
    createPicker<S extends BalancedSubchannel>(ready: readonly S[]): BalancerPicker<S> {
      const list = [...ready];
      return {
        pick: () => {
          const i = next % list.length;
          next = i + 1;
          return list[i];
        },
      };
    },
  };
}
