import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client } from "../rpc/client.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { createServer, type Server, type ServerOptions } from "../rpc/server.js";
import type { ServiceImpl } from "../rpc/service-impl.js";
import { createInProcessTransport } from "../transport/inproc/inproc-transport.js";

/** Options of {@link createTestClient}. */
export interface TestClientOptions {
  /** Options of the server the handlers run on (server interceptors, limits, `implicitCallContext`). Default none. */
  server?: ServerOptions;
  /** Client interceptors, the first outermost. Default none. */
  interceptors?: Interceptor[];
}

/** A typed client wired in-process to a server; disposing it shuts the server down. */
export type TestClient<S extends DescService> = Client<S> & {
  /** The server the handlers run on (add more services, read `server.health`). */
  readonly server: Server;
};

/**
 * A typed client of `service` calling `impl` in-process: the whole call
 * pipeline (interceptors, deadlines, cancellation, status codes, metadata)
 * without sockets, for a user's unit tests. `await using client =
 * createTestClient(S, impl)` shuts the server down at the end of the scope.
 *
 * @throws FerryError INVALID_ARGUMENT when `impl` has handler names that match
 *   no method (see `Server.service`).
 */
export function createTestClient<S extends DescService>(service: S, impl: ServiceImpl<S>, options: TestClientOptions = {}): TestClient<S> {
  const server = createServer(options.server).service(service, impl);
  const client = createClient(service, createInProcessTransport(server), { interceptors: options.interceptors ?? [] });
  Object.defineProperty(client, "server", { value: server, enumerable: false });
  Object.defineProperty(client, Symbol.asyncDispose, { value: () => server.shutdown(0), enumerable: false });
  return client as TestClient<S>;
}
