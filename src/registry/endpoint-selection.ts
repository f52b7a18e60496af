import type { Endpoint } from "../channel/resolver.js";
import { parseWeight } from "./instance-validation.js";
import type { ServiceInstance } from "./service-registry.js";

/** Transport order used when a target names none: in-process first, then Ferry's native protocol, then gRPC, then any other. */
export const DEFAULT_TRANSPORT_PREFERENCE: readonly string[] = ["inproc", "native", "grpc"];

/** How {@link toEndpoints} picks endpoints. */
export interface EndpointSelection {
  /**
   * Allowed transports, most preferred first. Each instance contributes its
   * endpoint of the first listed transport it has; an instance with none is
   * left out. Default: any transport, ranked by {@link DEFAULT_TRANSPORT_PREFERENCE}
   * and then in registration order.
   */
  transports?: readonly string[];
  /** Only instances whose metadata has these exact values (e.g. `{ zone: "eu-1" }`). */
  metadata?: Readonly<Record<string, string>>;
}

function rank(transport: string, selection: EndpointSelection): number {
  const order = selection.transports ?? DEFAULT_TRANSPORT_PREFERENCE;
  const i = order.indexOf(transport);
  if (i >= 0) return i;
  return selection.transports === undefined ? order.length : -1;
}

/**
 * Turns registry instances into a channel's endpoint list: one endpoint per
 * instance (its most preferred transport; the first such endpoint when it
 * registered several), `weight` from the instance's `weight` metadata
 * (default 1), `metadata` the instance's. Instances failing the metadata
 * filter are left out; a URL seen twice is kept once.
 */
export function toEndpoints(instances: readonly ServiceInstance[], selection: EndpointSelection = {}): Endpoint[] {
  const out: Endpoint[] = [];
  const seen = new Set<string>();
  for (const instance of instances) {
    const filter = Object.entries(selection.metadata ?? {});
    if (!filter.every(([k, v]) => instance.metadata[k] === v)) continue;
    let best: { url: string; rank: number } | undefined;
    for (const e of instance.endpoints) {
      const r = rank(e.transport, selection);
      if (r >= 0 && (best === undefined || r < best.rank)) best = { url: e.url, rank: r };
    }
    if (best === undefined || seen.has(best.url)) continue;
    seen.add(best.url);
    out.push({ url: best.url, instanceId: instance.instanceId, weight: parseWeight(instance.metadata.weight), metadata: instance.metadata });
  }
  return out;
}
