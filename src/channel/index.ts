/**
 * Channels: resolve a target to endpoints, keep one subchannel per endpoint,
 * pick one per call with a balancer, eject failing endpoints, wait for a
 * ready endpoint. See docs/channels.md. Importing it registers the
 * `registry:`, `static:` and `dns:` target schemes.
 */
import { registerTransportScheme } from "../rpc/transport-registry.js";
import { channelScheme as scheme } from "./channel-scheme.js";

for (const name of ["registry", "static", "dns"]) registerTransportScheme(name, () => Promise.resolve(scheme));

export type { Endpoint, Resolver, ResolverListener } from "./resolver.js";
export { ConnectivityState } from "./connectivity-state.js";
export { Channel, createChannel, DEFAULT_WAIT_FOR_READY_TIMEOUT_MS, type ChannelOptions, type SubchannelInfo } from "./channel.js";
export { channelFromTarget, channelScheme } from "./channel-scheme.js";
export { ChannelEvents, type ChannelEvent, type ChannelEventMap, type ChannelEventType, type ChannelListener } from "./channel-events.js";
export { Subchannel, type SubchannelOptions, type TransportFor } from "./subchannel.js";
export { dropPicker, failingPicker, queuePicker, type Picker, type PickResult } from "./picker.js";
export type { Balancer, BalancedSubchannel, BalancerPicker } from "./balancer.js";
export { createBalancer, type BalancerConfig, type BalancerName } from "./create-balancer.js";
export { createRoundRobinBalancer } from "./round-robin.js";
export { createLeastRequestBalancer, DEFAULT_CHOICE_COUNT, type LeastRequestOptions } from "./least-request.js";
export { createRingHashBalancer, DEFAULT_HASH_HEADER, DEFAULT_VIRTUAL_NODES, type RingHashOptions } from "./ring-hash.js";
export { createWeightedRoundRobinBalancer } from "./weighted-round-robin.js";
export {
  DEFAULT_OUTLIER_FAILURE_CODES,
  OutlierDetector,
  type EjectionInfo,
  type EjectionReason,
  type OutlierDetectionOptions,
  type OutlierListener,
} from "./outlier-detection.js";
