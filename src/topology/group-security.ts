import { createAuthInterceptor } from "../auth/auth-interceptor.js";
import { parseAuthorizationPolicy } from "../auth/authorization-policy.js";
import { createForwardAuthorizationInterceptor } from "../auth/forward-identity.js";
import { createJwtVerifier, type JwtVerifier } from "../auth/jwt-verifier.js";
import type { Interceptor } from "../rpc/interceptor.js";
import type { TopologySecurity } from "./topology-config.js";

/** What a group enforces and forwards, built from a topology's `security`. */
export interface GroupSecurity {
  /** Server interceptors of the group's server (authentication and the policy). */
  readonly server: Interceptor[];
  /** Client interceptors of every client the group's services use (the caller's token follows the call). */
  readonly client: Interceptor[];
  /** The gateway's verifier of Bearer tokens. */
  readonly verifier: JwtVerifier | undefined;
}

/**
 * The interceptors of a topology's `security`: without it, none. With it,
 * every call to a group's server (RPC listeners, in-process calls and the
 * HTTP API alike) must carry a verified token, and the policy decides which
 * methods it may call; the services' own calls forward the caller's token,
 * so each hop checks the same principal (docs/security.md).
 */
export function groupSecurity(security: TopologySecurity | undefined): GroupSecurity {
  if (security === undefined) return { server: [], client: [], verifier: undefined };
  const verifier = security.jwt === undefined ? undefined : createJwtVerifier({ jwksUrl: security.jwt.jwksUrl, issuer: security.jwt.issuer, audience: security.jwt.audience });
  const policy = security.policy === undefined ? undefined : parseAuthorizationPolicy(security.policy);
  return {
    server: [createAuthInterceptor({ jwt: verifier, policy })],
    client: [createForwardAuthorizationInterceptor()],
    verifier,
  };
}
