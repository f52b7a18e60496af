import type { AnyRequest } from "../rpc/call.js";
import type { Endpoint } from "./resolver.js";

/**
 * What a balancer sees of a subchannel: its endpoint and live load figures.
 * The figures change as calls run; the set a picker gets does not.
 */
export interface BalancedSubchannel {
  /** The endpoint (its `weight` drives weighted and ring-hash balancing). */
  readonly endpoint: Endpoint;
  /** Calls sent on this subchannel that have not ended yet (streams: until read to their end). */
  readonly activeCalls: number;
  /**
   * Exponentially weighted moving average of call latency in milliseconds
   * (unary: until the response, streams: until the response headers), or
   * `undefined` before the first sample or once the last one is older than
   * the channel's `latencyTtlMs`.
   */
  readonly latencyEwmaMs: number | undefined;
}

/** Chooses one of the ready subchannels a {@link Balancer} built it for. */
export interface BalancerPicker<S extends BalancedSubchannel = BalancedSubchannel> {
  /** Returns one of the picker's subchannels; never called with an empty set. */
  pick(request: AnyRequest): S;
}

/**
 * A load-balancing strategy, the smallest shape that works: given the
 * current ready subchannels (at least one, READY and not ejected), build a
 * picker. The channel calls `createPicker` on every change and uses the
 * picker until the next change. A balancer may keep state across pickers
 * (round robin's position).
 *
 * Built-in: {@link createRoundRobinBalancer}, {@link createLeastRequestBalancer}
 * (power of two choices with latency EWMA), {@link createRingHashBalancer}
 * (consistent hashing on a metadata key), {@link createWeightedRoundRobinBalancer}.
 */
export interface Balancer {
  /** Name for logs and events, e.g. `"round_robin"`. */
  readonly name: string;
  createPicker<S extends BalancedSubchannel>(ready: readonly S[]): BalancerPicker<S>;
}
