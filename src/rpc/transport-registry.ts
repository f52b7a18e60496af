import type { ConnectionOptions } from "node:tls";
import { Code } from "./code.js";
import { FerryError } from "./ferry-error.js";
import type { ClientTransport } from "./client-transport.js";
import type { ServerTransport } from "./server-transport.js";

/** Options a client transport created from a URL takes besides the URL (set by a channel or `createClient`). */
export interface ClientTransportOptions {
  /**
   * TLS client options (`node:tls` ConnectionOptions: `ca`, `cert`, `key`
   * for mTLS, `servername`, `checkServerIdentity`, …) for the TLS schemes
   * (`natives://`, `grpcs://`, `https://`). Cleartext TCP schemes
   * (`native://`, `grpc://`, `http://`) refuse a target when these are set,
   * with INVALID_ARGUMENT, so credentials never go out unencrypted; schemes
   * without a network hop of their own (`inproc://`, `native+unix://`) and
   * those with their own URL options (`nats://`) ignore them.
   */
  tls?: ConnectionOptions;
}

/** Creates transports for one URL scheme. */
export interface TransportFactory {
  /** Client transport for a target URL with this scheme; `options` as {@link ClientTransportOptions} describes. */
  client?(target: URL, options?: ClientTransportOptions): ClientTransport | Promise<ClientTransport>;
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

/**
 * The client transport for `target`, with `options` (TLS client credentials).
 * Raises INVALID_ARGUMENT for a bad URL, an unknown scheme, or a cleartext
 * scheme given TLS options.
 */
export async function clientTransportFromUrl(target: string, options?: ClientTransportOptions): Promise<ClientTransport> {
  const url = parse(target);
  const factory = await factoryFor(url);
  if (factory.client === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `scheme ${url.protocol} has no client transport`);
  return factory.client(url, options);
}

/** The server transport for `address`. Raises INVALID_ARGUMENT for a bad URL or unknown scheme. */
export async function serverTransportFromUrl(address: string): Promise<ServerTransport> {
  const url = parse(address);
  const factory = await factoryFor(url);
  if (factory.server === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `scheme ${url.protocol} has no server transport`);
  return factory.server(url);
}
