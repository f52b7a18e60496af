import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { TransportFactory } from "../../rpc/transport-registry.js";
import { tlsFor } from "../client-tls.js";
import { createNativeTransport } from "./native-client-transport.js";
import { createNativeServerTransport, DEFAULT_NATIVE_PORT } from "./native-server-transport.js";

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
}

function pathOf(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  if (path === "" || path === "/") throw new FerryError(Code.INVALID_ARGUMENT, `native+unix URL "${url.href}" needs a socket path, e.g. native+unix:///tmp/ferry.sock`);
  return path;
}

/**
 * `native://HOST:PORT`: Ferry's native protocol over TCP (docs/protocol.md).
 * Port 0 binds a free port; default 50052. `natives://HOST:PORT`: the same
 * over TLS, with the client options' `tls` (a channel's or `createClient`'s:
 * custom CAs, a client certificate for mTLS), by default checking the server
 * against the system CAs. A `native://` target given `tls` options raises
 * INVALID_ARGUMENT (credentials never go out in cleartext). As a server
 * address `natives://` raises INVALID_ARGUMENT: a TLS server needs its key
 * and certificate (use `createNativeServerTransport({ tls })`).
 */
export const nativeScheme: TransportFactory = {
  client: (url, options) =>
    createNativeTransport({ host: hostOf(url), port: url.port === "" ? DEFAULT_NATIVE_PORT : Number(url.port), tls: tlsFor(url, "natives:", options) }),
  server: (url) => {
    if (url.protocol === "natives:") {
      throw new FerryError(Code.INVALID_ARGUMENT, `${url.href}: a TLS server needs its key and certificate; use server.listen(createNativeServerTransport({ port, tls: { key, cert } }))`);
    }
    return createNativeServerTransport({ host: hostOf(url), port: url.port === "" ? DEFAULT_NATIVE_PORT : Number(url.port) });
  },
};

/** `native+unix:///PATH`: Ferry's native protocol over a Unix domain socket at the absolute PATH. */
export const nativeUnixScheme: TransportFactory = {
  client: (url) => createNativeTransport({ path: pathOf(url) }),
  server: (url) => createNativeServerTransport({ path: pathOf(url) }),
};
