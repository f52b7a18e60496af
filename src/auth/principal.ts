import type { JWTPayload } from "jose";
import { createContextKey, currentCallContext, type CallContext } from "../rpc/call-context.js";

/**
 * A service identity taken from a verified mTLS client certificate: its URI
 * subject alternative names (SPIFFE IDs such as
 * `spiffe://shop.local/ns/default/sa/order`), DNS names and subject common
 * name.
 */
export interface ServiceIdentity {
  /** The identity policies match: the first URI SAN, else the subject CN. */
  readonly id: string;
  /** Every `URI:` subject alternative name, in certificate order. */
  readonly uris: readonly string[];
  /** Every `DNS:` subject alternative name. */
  readonly dnsNames: readonly string[];
  /** The subject common name, if any. */
  readonly commonName: string | undefined;
  /** SHA-256 fingerprint of the certificate, colon-separated hex (as `node:tls` gives it). */
  readonly fingerprint256: string;
}

/**
 * Who is calling, as verified by the auth interceptor
 * ({@link createAuthInterceptor}): an end user or client from a Bearer JWT
 * (RFC 7519), a service from its mTLS certificate, or both (a service
 * forwarding a user's token over mTLS).
 */
export interface Principal {
  /** The JWT `sub` claim; `undefined` without a token (or when the token has none). */
  readonly subject: string | undefined;
  /** Every claim of the verified JWT (RFC 7519 §4); empty without a token. */
  readonly claims: Readonly<JWTPayload>;
  /** Scopes from the `scope` claim (space-delimited, RFC 8693 §4.2) or `scp` (string or list); empty without a token. */
  readonly scopes: ReadonlySet<string>;
  /** The verified mTLS service identity, if the caller presented a client certificate that chained to the server's CA. */
  readonly service: ServiceIdentity | undefined;
}

/**
 * The call context key holding the verified {@link Principal}; `undefined`
 * for anonymous calls (public methods) and on servers without the auth
 * interceptor. Read it with `ctx.values.get(principalKey)` or
 * {@link principalOf}.
 */
export const principalKey = createContextKey<Principal | undefined>(undefined, "ferry principal");

/**
 * The verified principal of a call: of `ctx` when given, else of the call
 * whose handler is running now (through `AsyncLocalStorage`, see
 * `ServerOptions.implicitCallContext`). `undefined` when anonymous.
 */
export function principalOf(ctx?: CallContext): Principal | undefined {
  return (ctx ?? currentCallContext())?.values.get(principalKey);
}

/** The scopes of a JWT payload: `scope` split on spaces, plus `scp` as a string or list of strings. */
export function scopesOf(claims: JWTPayload): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === "string") {
      for (const s of v.split(" ")) if (s !== "") out.add(s);
    } else if (Array.isArray(v)) {
      for (const s of v) if (typeof s === "string" && s !== "") out.add(s);
    }
  };
  add(claims.scope);
  add(claims.scp);
  return out;
}
