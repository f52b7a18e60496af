import type { KeyObject } from "node:crypto";
import { SignJWT, type CryptoKey } from "jose";
import { currentCallContext } from "../rpc/call-context.js";
import type { CallHandler } from "../rpc/call.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { principalOf } from "./principal.js";

/**
 * A client interceptor that forwards the end user's Bearer token: a call
 * made from inside a handler carries the `authorization` metadata of the
 * server call it is made from (found through `request.context`, or the
 * implicit call context), unless the call sets its own.
 *
 * Forwarding is opt-in per client: add it only to clients whose transport
 * is mutually authenticated TLS (`grpcs://`, `natives://` with client
 * certificates) to services that verify the same tokens; tokens are bearer
 * credentials and anyone who sees one can replay it until `exp`.
 */
export function createForwardAuthorizationInterceptor(): Interceptor {
  return (next: CallHandler): CallHandler => (request) => {
    if (!request.metadata.has("authorization")) {
      const parent = request.context ?? currentCallContext();
      const value = parent?.requestMetadata.getText("authorization");
      if (value !== undefined) request.metadata.set("authorization", value);
    }
    return next(request);
  };
}

/** Options of {@link createSignedIdentityInterceptor}. */
export interface SignedIdentityOptions {
  /** The calling service's private key (a `KeyObject` or a `CryptoKey`), e.g. from `generateKeyPair("ES256")`. */
  privateKey: KeyObject | CryptoKey;
  /** The JWS algorithm of `privateKey`. Default `"ES256"`. */
  alg?: string;
  /** `kid` of the key, as published in the JWKS the receiving services trust. */
  kid?: string;
  /** `iss` of the internal tokens, e.g. `"spiffe://shop.local/order"`. Required. */
  issuer: string;
  /** `aud` of the internal tokens (the receiving services' audience). Required. */
  audience: string;
  /** Lifetime of each internal token, in seconds. Default 60. */
  ttlSeconds?: number;
  /** The `act` claim's subject (RFC 8693 §4.1): who acts for the user. Default `issuer`. */
  actor?: string;
}

/**
 * A client interceptor that replaces the end user's token by a short-lived
 * internal one: for a call made from inside a handler whose caller has a
 * verified subject, it signs a new JWT with the same `sub` and `scope`, an
 * `act` claim naming this service (RFC 8693 §4.1), its own `iss`/`aud`, and
 * `exp` after `ttlSeconds`; the receiving service trusts the internal key,
 * not the user's identity provider, and the user's original token never
 * travels further. Calls from outside a handler, or from an anonymous one,
 * carry no identity. Use it on clients whose transport is mTLS.
 */
export function createSignedIdentityInterceptor(options: SignedIdentityOptions): Interceptor {
  const ttl = options.ttlSeconds ?? 60;
  if (!Number.isInteger(ttl) || ttl < 1) throw new FerryError(Code.INVALID_ARGUMENT, `signed identity: ttlSeconds must be an integer >= 1, got ${ttl}`);
  const header = { alg: options.alg ?? "ES256", typ: "JWT", ...(options.kid === undefined ? {} : { kid: options.kid }) };
  return (next: CallHandler): CallHandler =>
    async (request) => {
      const principal = principalOf(request.context ?? currentCallContext());
      request.metadata.delete("authorization");
      if (principal?.subject !== undefined) {
        const claims: Record<string, unknown> = { act: { sub: options.actor ?? options.issuer } };
        if (principal.scopes.size > 0) claims.scope = [...principal.scopes].join(" ");
        const token = await new SignJWT(claims)
          .setProtectedHeader(header)
          .setSubject(principal.subject)
          .setIssuer(options.issuer)
          .setAudience(options.audience)
          .setIssuedAt()
          .setExpirationTime(`${ttl}s`)
          .sign(options.privateKey);
        request.metadata.set("authorization", `Bearer ${token}`);
      }
      return next(request);
    };
}
