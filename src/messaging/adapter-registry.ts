import { Code } from "../rpc/code.js";
import { importPeer as importPeerBase } from "../util/import-peer.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { AdapterFactory } from "./adapter.js";

/** Imports an adapter module (named by a variable, so adapters not yet present do not break the build). */
async function load(path: string): Promise<AdapterFactory> {
  return ((await import(path)) as { adapterFactory: AdapterFactory }).adapterFactory;
}

const loaders = new Map<string, () => Promise<AdapterFactory>>([
  ["memory", () => load("./memory/memory-adapter.js")],
  ["nats", () => load("./nats/nats-adapter.js")],
  ["amqp", () => load("./amqp/amqp-adapter.js")],
  ["amqps", () => load("./amqp/amqp-adapter.js")],
  ["redis", () => load("./redis/redis-adapter.js")],
  ["rediss", () => load("./redis/redis-adapter.js")],
]);

/**
 * Makes a URL scheme (without the colon) select an adapter. `load` runs on
 * first use, so an adapter's module, and the broker client library it
 * imports, load only when a broker URL with that scheme is used.
 */
export function registerBrokerScheme(scheme: string, load: () => Promise<AdapterFactory>): void {
  loaders.set(scheme, load);
}

/** The adapter factory for `url`'s scheme; raises INVALID_ARGUMENT for an unknown scheme. */
export async function adapterFactoryFor(url: URL): Promise<AdapterFactory> {
  const scheme = url.protocol.slice(0, -1);
  const load = loaders.get(scheme);
  if (load === undefined) {
    const known = [...loaders.keys()].map((s) => `${s}:`).join(", ");
    throw new FerryError(Code.INVALID_ARGUMENT, `unknown broker scheme "${scheme}:" in "${url.href}" (known: ${known})`);
  }
  try {
    return await load();
  } catch (err) {
    if (err instanceof FerryError) throw err;
    throw new FerryError(Code.FAILED_PRECONDITION, `cannot load the ${scheme}: broker adapter: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Imports a broker's client library, an optional peer dependency; see
 * {@link importPeerBase}. Raises FAILED_PRECONDITION naming the package.
 */
export function importPeer<T>(packageName: string, load: () => Promise<T>): Promise<T> {
  return importPeerBase(packageName, load, "this broker URL");
}
