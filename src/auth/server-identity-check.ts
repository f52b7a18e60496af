import type { PeerCertificate } from "node:tls";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { serviceIdentityOf } from "./service-identity.js";

/**
 * A `checkServerIdentity` for TLS client options (a channel's or
 * `createClient`'s `tls`, `node:tls`) that accepts a server only when its
 * certificate carries one of `ids` as a URI subject alternative name — a
 * SPIFFE ID such as `spiffe://shop.local/inventory`. It replaces host-name
 * verification, as SPIFFE X.509-SVID §5 prescribes: endpoints found in a
 * registry are addresses, and what the client must know is *which service*
 * answers, so an instance that registered under another service's name is
 * refused during the handshake. The certificate must still chain to the
 * client's `ca` (that check happens before this one).
 *
 * A refused server fails the connection; its calls fail with UNAVAILABLE
 * naming the identity found.
 *
 * @throws FerryError INVALID_ARGUMENT when `ids` is empty or holds a non-URI value.
 */
export function checkServerSpiffeId(ids: readonly string[]): (hostname: string, cert: PeerCertificate) => Error | undefined {
  if (ids.length === 0 || ids.some((id) => typeof id !== "string" || !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(id))) {
    throw new FerryError(Code.INVALID_ARGUMENT, `checkServerSpiffeId needs URIs such as spiffe://trust.domain/service, got ${JSON.stringify(ids)}`);
  }
  const allowed = new Set(ids);
  return (_hostname, cert) => {
    const identity = serviceIdentityOf({ ...cert, authorized: true });
    if (identity?.uris.some((u) => allowed.has(u)) === true) return undefined;
    const found = identity?.uris.length ? identity.uris.join(", ") : "no URI subject alternative name";
    return Object.assign(new Error(`server identity ${found} is not ${ids.join(" or ")}`), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  };
}
