import { peerCertificate } from "../peer-certificate.js";

/**
 * The verified client certificate of a call on a TLS connection (mTLS), as
 * `node:tls` describes it (`subject.CN`, `subjectaltname`, `fingerprint256`,
 * …), or `undefined` on cleartext connections and when the client sent none.
 * Read it in a handler or interceptor with
 * `ctx.values.get(grpcPeerCertificate)` to authorize by identity.
 *
 * The same key as the transport-neutral {@link peerCertificate}, which the
 * `native` transport sets too; kept under this name for existing code.
 *
 * With `requestCert: true, rejectUnauthorized: true` every call carries one
 * that chains to the server's `ca`; with `rejectUnauthorized: false` check
 * `authorized` yourself.
 */
export const grpcPeerCertificate = peerCertificate;
