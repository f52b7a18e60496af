import { createClient, createServer, type ClientOptions, type ClientTransport, type ServerOptions } from "../../src/index.js";
import { EchoService } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { clientTransportFromUrl } from "../../src/rpc/transport-registry.js";
import { NotAvailableError, type BenchClient, type BenchServer } from "./contender-api.js";
import { echoBenchClient } from "./echo-client.js";
import { echoHandlers } from "./echo-handlers.js";

/**
 * Shared code of the Ferry contenders: a Ferry server hosting EchoService
 * with default options (no interceptors), and a typed Ferry client over any
 * ClientTransport. A Ferry transport's contender is then two small files:
 * `startFerryServer("scheme://…")` and `ferryBenchClient(transport)`.
 */

/** Whether `err` says the URL's transport does not exist (scheme not registered, or its module not written). */
function isMissingTransport(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (err as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND" || /unknown transport scheme/.test(err.message);
}

/**
 * Starts a Ferry server with EchoService listening on `url` (e.g.
 * `grpc://127.0.0.1:0`), `options` (default none) and `handlers` (default
 * {@link echoHandlers}; `pushEchoHandlers` for the `-push` contenders). `local` is the Server. Rejects with
 * NotAvailableError when the URL's transport does not exist yet.
 */
export async function startFerryServer(url: string, options: ServerOptions = {}, handlers: object = echoHandlers): Promise<BenchServer> {
  const server = createServer(options).service(EchoService, handlers);
  try {
    const address = await server.listen(url);
    return { address: address.url, local: server, close: () => server.shutdown(1000) };
  } catch (err) {
    if (isMissingTransport(err)) throw new NotAvailableError(`not available yet (no ${new URL(url).protocol}// transport in src/)`);
    throw err;
  }
}

/** A {@link BenchClient} over the Ferry client transport for the URL `address` (the server's listening URL), with client `options` (default none). */
export async function connectFerryUrl(address: string, options: ClientOptions = {}): Promise<BenchClient> {
  return ferryBenchClient(await clientTransportFromUrl(address), options);
}

/** A {@link BenchClient} calling EchoService through a Ferry client over `transport`, with client `options` (default none). */
export function ferryBenchClient(transport: ClientTransport, options: ClientOptions = {}): BenchClient {
  return echoBenchClient(createClient(EchoService, transport, options), () => transport.close());
}
