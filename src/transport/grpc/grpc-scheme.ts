import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { SecureClientSessionOptions } from "node:http2";
import type { TransportFactory } from "../../rpc/transport-registry.js";
import { tlsFor } from "../client-tls.js";
import { createGrpcTransport } from "./grpc-client-transport.js";
import { createGrpcServerTransport } from "./grpc-server-transport.js";

/** Default port of `grpc://` URLs without one. */
export const DEFAULT_GRPC_PORT = 50051;

/**
 * `grpc://HOST:PORT` (cleartext HTTP/2) and `grpcs://HOST:PORT` (TLS with the
 * client options' `tls` — a channel's or `createClient`'s: custom CAs, a
 * client certificate for mTLS — by default the system's CAs). A `grpc://`
 * target given `tls` options raises INVALID_ARGUMENT.
 * As a server address, `grpc://HOST:0` binds a free port; `grpcs://` raises
 * INVALID_ARGUMENT, since a TLS server needs a key and certificate (use
 * `createGrpcServerTransport({ tls })`).
 */
export const grpcScheme: TransportFactory = {
  client: (url, options) => {
    const tls = tlsFor(url, "grpcs:", options);
    return createGrpcTransport({ baseUrl: url.href, tls: tls as SecureClientSessionOptions | undefined });
  },
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
