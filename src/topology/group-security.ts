import { readFileSync } from "node:fs";
import type { ConnectionOptions, TlsOptions } from "node:tls";
import { createAuthInterceptor } from "../auth/auth-interceptor.js";
import { parseAuthorizationPolicy } from "../auth/authorization-policy.js";
import { createForwardAuthorizationInterceptor } from "../auth/forward-identity.js";
import { createJwtVerifier, type JwtVerifier } from "../auth/jwt-verifier.js";
import { checkServerSpiffeId } from "../auth/server-identity-check.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Interceptor } from "../rpc/interceptor.js";
import type { TopologyConfig } from "./topology-config.js";

/** What a group enforces and forwards, built from a topology's `security`. */
export interface GroupSecurity {
  /** Server interceptors of the group's listeners and HTTP API (authentication and the policy). */
  readonly server: Interceptor[];
  /** Client interceptors of the group's remote clients (the caller's token follows the call). */
  readonly client: Interceptor[];
  /** The gateway's verifier of Bearer tokens. */
  readonly verifier: JwtVerifier | undefined;
  /** TLS of the group's listeners (mTLS: client certificates requested), with `security.tls`. */
  readonly serverTls: TlsOptions | undefined;
  /** TLS of the channel to a service (the group's certificate; the server's SPIFFE ID checked), with `security.tls`. */
  clientTls(serviceTypeName: string): ConnectionOptions | undefined;
}

function read(file: string, path: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new FerryError(Code.FAILED_PRECONDITION, `invalid topology: ${path}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** Groups running each RPC service (by full name), for the SPIFFE IDs a client accepts. */
export type ServiceGroups = ReadonlyMap<string, readonly string[]>;

/**
 * The security of one process group: without `security`, none. With it,
 * every call to the group's listeners and HTTP API is authenticated (a
 * Bearer JWT, or with `tls` a client certificate) and checked against the
 * policy; remote calls forward the caller's token. With `security.tls`,
 * listeners serve TLS 1.3 and request client certificates (a caller without
 * one gets UNAUTHENTICATED), and channels present the group's certificate
 * and, with `spiffeTrustDomain`, accept only a server whose SPIFFE ID names
 * a group running the service. Raises FAILED_PRECONDITION for an unreadable
 * certificate or key file.
 */
export function groupSecurity(config: TopologyConfig, group: string, serviceGroups: ServiceGroups): GroupSecurity {
  const security = config.security;
  if (security === undefined) return { server: [], client: [], verifier: undefined, serverTls: undefined, clientTls: () => undefined };
  const verifier = security.jwt === undefined ? undefined : createJwtVerifier({ jwksUrl: security.jwt.jwksUrl, issuer: security.jwt.issuer, audience: security.jwt.audience });
  const policy = security.policy === undefined ? undefined : parseAuthorizationPolicy(security.policy);
  const t = security.tls;
  const files = config.groups[group]?.tls ?? t;
  const pem =
    t === undefined || files === undefined
      ? undefined
      : { ca: read(t.caFile, "security.tls.caFile"), cert: read(files.certFile, "tls.certFile"), key: read(files.keyFile, "tls.keyFile") };
  const idsOf = (service: string) => (serviceGroups.get(service) ?? []).map((g) => `spiffe://${t!.spiffeTrustDomain}/${g}`);
  return {
    server: [createAuthInterceptor({ jwt: verifier, policy, mtls: pem !== undefined })],
    client: [createForwardAuthorizationInterceptor()],
    verifier,
    serverTls: pem === undefined ? undefined : { ...pem, requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.3" },
    clientTls: (service) => {
      if (pem === undefined) return undefined;
      const ids = t?.spiffeTrustDomain === undefined ? [] : idsOf(service);
      return { ...pem, minVersion: "TLSv1.3", ...(ids.length === 0 ? {} : { checkServerIdentity: checkServerSpiffeId(ids) }) };
    },
  };
}
