import type { PeerCertificate, TLSSocket } from "node:tls";
import { createContextKey } from "../rpc/call-context.js";

/** A client certificate as `node:tls` describes it, plus whether it chained to the server's `ca`. */
export type PeerCertificateInfo = PeerCertificate & {
  /** True when the certificate was verified against the server's `ca` (always, with `rejectUnauthorized: true`). */
  authorized: boolean;
};

/**
 * The client certificate of a call on a TLS connection (mTLS), as `node:tls`
 * describes it (`subject.CN`, `subjectaltname`, `fingerprint256`, …) plus
 * `authorized`; `undefined` on cleartext connections and when the client
 * sent none. Set by the `grpc` and `native` server transports; read it in a
 * handler or interceptor with `ctx.values.get(peerCertificate)` to authorize
 * by identity.
 *
 * With `requestCert: true, rejectUnauthorized: true` every call carries one
 * that chains to the server's `ca`; with `rejectUnauthorized: false` check
 * `authorized` yourself. `grpcPeerCertificate` is the same key.
 */
export const peerCertificate = createContextKey<PeerCertificateInfo | undefined>(undefined, "peer certificate");

/**
 * The certificate the peer of `socket` presented, read once per connection;
 * `undefined` for a plain socket or when the peer sent none.
 */
export function readPeerCertificate(socket: object): PeerCertificateInfo | undefined {
  const s = socket as Partial<TLSSocket>;
  const cert = s.getPeerCertificate?.();
  if (cert === undefined || cert === null || Object.keys(cert).length === 0) return undefined;
  return { ...cert, authorized: s.authorized === true };
}
