import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { ClientTransportOptions, TransportFactory } from "../rpc/transport-registry.js";
import { createChannel, type Channel } from "./channel.js";
import { createBalancer } from "./create-balancer.js";

/** Query parameters a channel target reads itself; the rest go to the resolver (registry metadata filters, `transport`). */
const CHANNEL_PARAMS = ["balancer", "hashHeader"] as const;

/**
 * Creates a {@link Channel} for a target URL:
 * `registry:///SERVICE[?transport=…&zone=…]`, `static:///URL1,URL2` or
 * `dns:///host:port` (resolved by the registry module's `createResolver`),
 * plus the channel's own parameters `balancer` (`round_robin` default,
 * `least_request`, `ring_hash`, `weighted_round_robin`) and `hashHeader`
 * (ring hash key, default `x-hash-key`). Every other option has its default
 * (see {@link ChannelOptions}); build the channel with {@link createChannel}
 * to set them.
 *
 * `options.tls` becomes the channel's `ChannelOptions.tls` (client
 * credentials for every resolved endpoint).
 *
 * Rejects with FerryError INVALID_ARGUMENT for a malformed target, service name or balancer.
 */
export async function channelFromTarget(target: string | URL, options: ClientTransportOptions = {}): Promise<Channel> {
  const raw = typeof target === "string" ? target : target.href;
  if (!URL.canParse(raw)) throw new FerryError(Code.INVALID_ARGUMENT, `invalid target "${raw}": expected a URL such as registry:///shop.v1.InventoryService`);
  const url = new URL(raw);
  const name = url.searchParams.get("balancer") ?? "round_robin";
  const balancer = createBalancer(name, { hashHeader: url.searchParams.get("hashHeader") ?? undefined });
  const href = url.href;
  for (const p of CHANNEL_PARAMS) url.searchParams.delete(p);
  // Loaded on first use, so importing Ferry does not load the registry module.
  const { createResolver } = await import("../registry/create-resolver.js");
  return createChannel({ resolver: createResolver(url.href), balancer, target: href, tls: options.tls });
}

/**
 * The transport factory of the `registry:`, `static:` and `dns:` target
 * schemes (registered as built-in lazy entries of the transport registry), so
 * that `createClient(Service, "registry:///shop.v1.InventoryService")` builds
 * a channel on its first call.
 */
export const channelScheme: TransportFactory = {
  client: (url, options) => channelFromTarget(url, options),
};
