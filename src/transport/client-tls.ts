import type { ConnectionOptions } from "node:tls";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { ClientTransportOptions } from "../rpc/transport-registry.js";

/**
 * The TLS options a URL scheme's client transport connects with: for the TLS
 * scheme (`tlsProtocol`, e.g. `"natives:"`), `options.tls` or `{}` (the
 * system CAs); for the cleartext one, none.
 *
 * @throws FerryError INVALID_ARGUMENT for a cleartext target given TLS
 * options: a client with credentials never sends them unencrypted (an entry
 * in the registry cannot downgrade it).
 */
export function tlsFor(url: URL, tlsProtocol: string, options: ClientTransportOptions | undefined): ConnectionOptions | undefined {
  if (url.protocol === tlsProtocol) return options?.tls ?? {};
  if (options?.tls !== undefined) {
    throw new FerryError(Code.INVALID_ARGUMENT, `${url.protocol}//${url.host} is cleartext but this client has TLS credentials: use a ${tlsProtocol}// endpoint`);
  }
  return undefined;
}
