import type { TlsOptions } from "node:tls";
import type { ListeningAddress, ServerTransport } from "../rpc/server-transport.js";
import type { Server } from "../rpc/server.js";
import { createGrpcServerTransport } from "../transport/grpc/grpc-server-transport.js";
import { createNativeServerTransport } from "../transport/native/native-server-transport.js";
import { parseHostPort } from "./topology-address.js";
import { TOPOLOGY_TRANSPORTS, type TopologyConfig, type TopologyTransport, type TransportAddresses } from "./topology-config.js";

/** Where a group listens when its config says nothing: nowhere with one group, `native` on a free loopback port with several. */
export const DEFAULT_GROUP_LISTEN: TransportAddresses = { native: "127.0.0.1:0" };

/** The listen addresses of `group`, defaults applied (see {@link DEFAULT_GROUP_LISTEN}). */
export function groupListen(config: TopologyConfig, group: string): TransportAddresses {
  const g = config.groups[group]!;
  if (g.listen !== undefined) return g.listen;
  return Object.keys(config.groups).length > 1 && g.services.length > 0 ? DEFAULT_GROUP_LISTEN : {};
}

/** The advertised `HOST[:PORT]` of `transport` in `group`, if the config sets one. */
export function groupAdvertise(config: TopologyConfig, group: string, transport: TopologyTransport): string | undefined {
  const a = config.groups[group]!.advertise;
  return typeof a === "string" ? a : a?.[transport];
}

function serverTransport(transport: TopologyTransport, listen: string, advertise: string | undefined, tls: TlsOptions | undefined): ServerTransport {
  const bind = parseHostPort(listen)!;
  const adv = advertise === undefined ? undefined : parseHostPort(advertise)!;
  const options = { host: bind.host, port: bind.port, advertiseHost: adv?.host, advertisePort: adv?.port, tls };
  return transport === "native" ? createNativeServerTransport(options) : createGrpcServerTransport(options);
}

/**
 * Starts the group's RPC listeners on `server` (native first, then gRPC),
 * each bound to its listen address and advertising its advertise address;
 * with `tls`, as `natives://` and `grpcs://`.
 * Resolves with their addresses; rejects with the listener's error (EADDRINUSE).
 */
export async function listenGroup(server: Server, config: TopologyConfig, group: string, tls?: TlsOptions): Promise<ListeningAddress[]> {
  const listen = groupListen(config, group);
  const out: ListeningAddress[] = [];
  for (const transport of TOPOLOGY_TRANSPORTS) {
    const address = listen[transport];
    if (address !== undefined) out.push(await server.listen(serverTransport(transport, address, groupAdvertise(config, group, transport), tls)));
  }
  return out;
}
