import { decodeJwt } from "jose";
import type { CallContext } from "../rpc/call-context.js";
import type { AnyRequest, CallHandler } from "../rpc/call.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { peerCertificate } from "../transport/peer-certificate.js";
import { invalidToken, missingCredentials } from "./auth-error.js";
import { PolicyEngine, type AuthorizationPolicy } from "./authorization-policy.js";
import type { JwtVerifier } from "./jwt-verifier.js";
import { principalKey, scopesOf, type Principal, type ServiceIdentity } from "./principal.js";
import { serviceIdentityOf } from "./service-identity.js";

/** Options of {@link createAuthInterceptor}. */
export interface AuthInterceptorOptions {
  /**
   * Verifiers of Bearer JWTs from the `authorization` metadata (see
   * `createJwtVerifier`). With several, the token's (unverified) `iss`
   * picks the verifier whose `issuer` lists it; the chosen verifier then
   * checks everything, `iss` included. Default none: tokens are refused.
   */
  jwt?: JwtVerifier | readonly JwtVerifier[];
  /** Take a service identity from a verified mTLS client certificate (see `serviceIdentityOf`). Default true. */
  mtls?: boolean;
  /**
   * The authorization policy (see {@link AuthorizationPolicy}); once set,
   * methods it does not cover are denied. Without a policy, every call needs
   * a verified principal (token or certificate), except the health service.
   */
  policy?: AuthorizationPolicy;
  /** Serve `grpc.health.v1.Health` without credentials (load balancers and orchestrators probe it). Default true. */
  publicHealth?: boolean;
}

const HEALTH_SERVICE = "grpc.health.v1.Health";
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * A server interceptor that authenticates every call and authorizes it
 * against a policy, the same on every transport (`grpc`, Connect on the
 * gRPC port, `native`, `inproc`) and behind the gateway.
 *
 * Authentication: a Bearer JWT (RFC 6750 §2.1) in the `authorization`
 * metadata is verified (RFC 7519, RFC 8725; see `createJwtVerifier`); a
 * client certificate verified by the transport's mTLS gives a service
 * identity. The resulting {@link Principal} is stored under
 * {@link principalKey} in the call context before the handler runs.
 *
 * Errors: a present but invalid token is UNAUTHENTICATED (HTTP 401, with
 * `www-authenticate: Bearer error="invalid_token"`) on every method, public
 * ones included; a call without credentials to a non-public method is
 * UNAUTHENTICATED; a call the policy refuses is PERMISSION_DENIED (HTTP 403).
 * Messages name the failed check and never contain the token.
 *
 * Place it first among the server's interceptors, so that nothing runs for
 * an unauthenticated call.
 */
export function createAuthInterceptor(options: AuthInterceptorOptions = {}): Interceptor {
  const verifiers = options.jwt === undefined ? [] : Array.isArray(options.jwt) ? [...(options.jwt as readonly JwtVerifier[])] : [options.jwt as JwtVerifier];
  const useMtls = options.mtls ?? true;
  const engine = options.policy === undefined ? undefined : new PolicyEngine(options.policy);
  const publicHealth = options.publicHealth ?? true;
  return (next: CallHandler): CallHandler =>
    async (request: AnyRequest) => {
      const ctx = request.context as CallContext;
      const method = request.method;
      const principal = await authenticate(request, ctx, verifiers, useMtls);
      if (principal !== undefined) ctx.values.set(principalKey, principal);
      if (publicHealth && method.service.typeName === HEALTH_SERVICE) return next(request);
      if (engine === undefined) {
        if (principal === undefined) throw noCredentials(method.path, ctx);
        return next(request);
      }
      const rule = engine.ruleFor(method);
      if (principal === undefined && rule !== undefined && rule.public !== true) throw noCredentials(method.path, ctx);
      const decision = engine.decide(method, principal, request.stream ? undefined : request.message);
      if (!decision.allowed) throw decision.error;
      return next(request);
    };
}

/** UNAUTHENTICATED for a call without credentials; says so when a client certificate came but did not chain to the server's CA. */
function noCredentials(path: string, ctx: CallContext): FerryError {
  const cert = ctx.values.get(peerCertificate);
  const why = cert !== undefined && cert.authorized !== true ? " (the client certificate presented did not verify against this server's CA)" : "";
  return missingCredentials(`${path} needs credentials: send "authorization: Bearer <token>" or a client certificate${why}`);
}

async function authenticate(request: AnyRequest, ctx: CallContext, verifiers: readonly JwtVerifier[], useMtls: boolean): Promise<Principal | undefined> {
  const service: ServiceIdentity | undefined = useMtls ? serviceIdentityOf(ctx.values.get(peerCertificate)) : undefined;
  const values = request.metadata.getAll("authorization");
  if (values.length === 0) return service === undefined ? undefined : { subject: undefined, claims: {}, scopes: new Set(), service };
  if (values.length > 1) throw invalidToken("format", "more than one authorization value");
  const value = values[0];
  if (typeof value !== "string") throw invalidToken("format", 'authorization is not "Bearer <token>"');
  const match = BEARER.exec(value);
  if (match === null) throw invalidToken("format", 'authorization is not "Bearer <token>"');
  const token = match[1];
  if (verifiers.length === 0) throw invalidToken("issuer", "this server accepts no tokens");
  const verifier = pickVerifier(verifiers, token);
  const { claims } = await verifier.verify(token);
  return { subject: typeof claims.sub === "string" ? claims.sub : undefined, claims, scopes: scopesOf(claims), service };
}

/**
 * One verifier over several identity providers: the token's (unverified)
 * `iss` picks the verifier whose `issuer` lists it, which then checks
 * everything, `iss` included; a token naming no configured issuer is
 * refused (`invalid token: iss: unexpected issuer`). With a single verifier,
 * that verifier.
 */
export function combineVerifiers(verifiers: readonly JwtVerifier[]): JwtVerifier {
  if (verifiers.length === 1) return verifiers[0];
  return {
    issuers: verifiers.flatMap((v) => v.issuers),
    verify: (token) => pickVerifier(verifiers, token).verify(token),
  };
}

function pickVerifier(verifiers: readonly JwtVerifier[], token: string): JwtVerifier {
  if (verifiers.length === 1) return verifiers[0];
  let iss: unknown;
  try {
    // Only to choose among verifiers; the chosen one verifies everything, iss included.
    iss = token.length <= 65_536 ? decodeJwt(token).iss : undefined;
  } catch {
    return verifiers[0];
  }
  const found = verifiers.find((v) => typeof iss === "string" && v.issuers.includes(iss));
  if (found !== undefined) return found;
  if (typeof iss !== "string") return verifiers[0];
  throw invalidToken("iss", "unexpected issuer");
}

/** Thrown by {@link requirePrincipal} when a handler runs without a verified principal. */
function noPrincipal(): FerryError {
  return new FerryError(Code.UNAUTHENTICATED, "this call has no verified principal");
}

/**
 * The verified principal of `ctx`, for handlers that need one.
 *
 * @throws FerryError UNAUTHENTICATED when the call is anonymous (a public method called without credentials, or a server without the auth interceptor).
 */
export function requirePrincipal(ctx: CallContext): Principal {
  const p = ctx.values.get(principalKey);
  if (p === undefined) throw noPrincipal();
  return p;
}
