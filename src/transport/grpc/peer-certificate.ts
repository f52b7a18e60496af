import type { PeerCertificate } from "node:tls";
import { createContextKey } from "../../rpc/call-context.js";

/**
 * The verified client certificate of a call on a TLS connection (mTLS), as
 * `node:tls` describes it (`subject.CN`, `subjectaltname`, `fingerprint256`,
 * …), or `undefined` on cleartext connections and when the client sent none.
 * Set by the grpc server transport; read it in a handler or interceptor with
 * `ctx.values.get(grpcPeerCertificate)` to authorize by identity.
 *
 * With `requestCert: true, rejectUnauthorized: true` every call carries one
 * that chains to the server's `ca`; with `rejectUnauthorized: false` check
 * `authorized` yourself.
 */
export const grpcPeerCertificate = createContextKey<(PeerCertificate & { authorized: boolean }) | undefined>(undefined, "grpc peer certificate");
