import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { TransportFactory } from "../../rpc/transport-registry.js";
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
 * over TLS, checking the server against the system CAs (use
 * `createNativeTransport({ tls })` for custom CAs or mTLS). As a server
 * address `natives://` raises INVALID_ARGUMENT: a TLS server needs its key
 * and certificate (use `createNativeServerTransport({ tls })`).
 */
export const nativeScheme: TransportFactory = {
  client: (url) =>
    createNativeTransport({ host: hostOf(url), port: url.port === "" ? DEFAULT_NATIVE_PORT : Number(url.port), tls: url.protocol === "natives:" ? {} : undefined }),
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
