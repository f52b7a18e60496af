import { Code } from "./code.js";
import { FerryError } from "./ferry-error.js";
import type { ClientTransport } from "./client-transport.js";
import type { ServerTransport } from "./server-transport.js";

/** Creates transports for one URL scheme. */
export interface TransportFactory {
  /** Client transport for a target URL with this scheme. */
  client?(target: URL): ClientTransport | Promise<ClientTransport>;
  /** Server transport listening on a URL with this scheme. */
  server?(address: URL): ServerTransport | Promise<ServerTransport>;
}

/**
 * Scheme → loader. Empty in the core: each transport's entry point registers
 * its own schemes (`ferry` registers every built-in one, lazily, so a
 * transport's code loads only when a URL with its scheme is used).
 */
const factories = new Map<string, () => Promise<TransportFactory>>();

/**
 * Makes `scheme` (without the colon, e.g. `"grpc"`) usable in client targets
 * and `Server.listen` URLs. `load` is called on first use, so a transport's
 * code loads only when it is used.
 */
export function registerTransportScheme(scheme: string, load: () => Promise<TransportFactory>): void {
  factories.set(scheme, load);
}

function parse(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new FerryError(Code.INVALID_ARGUMENT, `invalid target "${url}": expected a URL such as grpc://127.0.0.1:50051`);
  }
}

async function factoryFor(url: URL): Promise<TransportFactory> {
  const scheme = url.protocol.slice(0, -1);
  const load = factories.get(scheme);
  if (load === undefined) {
    const known = [...factories.keys()].map((s) => `${s}://`).join(", ") || "none registered: import \"ferry\" or a transport's entry point";
    throw new FerryError(Code.INVALID_ARGUMENT, `unknown transport scheme "${scheme}:" in "${url.href}" (known: ${known})`);
  }
  return load();
}

/** The client transport for `target`. Raises INVALID_ARGUMENT for a bad URL or unknown scheme. */
export async function clientTransportFromUrl(target: string): Promise<ClientTransport> {
  const url = parse(target);
  const factory = await factoryFor(url);
  if (factory.client === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `scheme ${url.protocol} has no client transport`);
  return factory.client(url);
}

/** The server transport for `address`. Raises INVALID_ARGUMENT for a bad URL or unknown scheme. */
export async function serverTransportFromUrl(address: string): Promise<ServerTransport> {
  const url = parse(address);
  const factory = await factoryFor(url);
  if (factory.server === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `scheme ${url.protocol} has no server transport`);
  return factory.server(url);
}
