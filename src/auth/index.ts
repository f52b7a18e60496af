/**
 * `ferry/auth`: authentication (Bearer JWTs verified per RFC 7519 and RFC
 * 8725, mTLS service identities) and per-method authorization policies, as
 * one server interceptor that works on every transport and behind the
 * gateway. See docs/security.md.
 */
export { combineVerifiers, createAuthInterceptor, requirePrincipal, type AuthInterceptorOptions } from "./auth-interceptor.js";
export { invalidToken, missingCredentials, permissionDenied, WWW_AUTHENTICATE } from "./auth-error.js";
export {
  parseAuthorizationPolicy,
  PolicyEngine,
  type AuthorizationPolicy,
  type AuthorizationRule,
  type FieldMatch,
  type PolicyDecision,
} from "./authorization-policy.js";
export { createForwardAuthorizationInterceptor, createSignedIdentityInterceptor, type SignedIdentityOptions } from "./forward-identity.js";
export { createJwtVerifier, DEFAULT_JWT_ALGORITHMS, type JwtVerifier, type JwtVerifierOptions, type VerificationKey, type VerifiedJwt } from "./jwt-verifier.js";
export { principalKey, principalOf, scopesOf, type Principal, type ServiceIdentity } from "./principal.js";
export { serviceIdentityOf } from "./service-identity.js";
export { checkServerSpiffeId } from "./server-identity-check.js";
