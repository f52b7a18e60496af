import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { TransportFactory } from "../../rpc/transport-registry.js";
import { createGrpcTransport } from "./grpc-client-transport.js";
import { createGrpcServerTransport } from "./grpc-server-transport.js";

/** Default port of `grpc://` URLs without one. */
export const DEFAULT_GRPC_PORT = 50051;

/**
 * `grpc://HOST:PORT` (cleartext HTTP/2) and `grpcs://HOST:PORT` (TLS with the
 * system's CAs; pass a transport from `createGrpcTransport` for custom TLS).
 * As a server address, `grpc://HOST:0` binds a free port; `grpcs://` raises
 * INVALID_ARGUMENT, since a TLS server needs a key and certificate (use
 * `createGrpcServerTransport({ tls })`).
 */
export const grpcScheme: TransportFactory = {
  client: (url) => createGrpcTransport({ baseUrl: url.href }),
  server: (url) => {
    if (url.protocol === "grpcs:") {
      throw new FerryError(Code.INVALID_ARGUMENT, `${url.href}: a TLS server needs its key and certificate; use server.listen(createGrpcServerTransport({ port, tls: { key, cert } }))`);
    }
    return createGrpcServerTransport({
      host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
      port: url.port === "" ? DEFAULT_GRPC_PORT : Number(url.port),
    });
  },
};
