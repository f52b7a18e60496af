import { createPublicKey, KeyObject } from "node:crypto";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
} from "jose";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { invalidToken, quoteInput } from "./auth-error.js";

/**
 * The asymmetric JWS algorithms accepted by default (RFC 7518 §3.1, RFC 8037
 * for EdDSA). HMAC (`HS*`) is never in the default list, and `none` is never
 * accepted at all (RFC 8725 §3.1, §3.2).
 */
export const DEFAULT_JWT_ALGORITHMS: readonly string[] = ["ES256", "ES384", "ES512", "EdDSA", "Ed25519", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"];

const HMAC = /^HS(256|384|512)$/;
/** Header parameters that name or carry a key: RFC 8725 §3.10 — a verifier never takes its key from the token. */
const KEY_SOURCE_HEADERS = ["jku", "x5u", "jwk", "x5c"] as const;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** A public key given to {@link createJwtVerifier}: PEM text (SPKI public key or X.509 certificate), a public JWK, or a `KeyObject`. */
export type VerificationKey = string | JWK | KeyObject;

/** Options of {@link createJwtVerifier}. At least one key source (`jwks`, `keys`, `jwksUrl` or `secret`) is required. */
export interface JwtVerifierOptions {
  /**
   * The JWS `alg` values accepted (RFC 8725 §3.1: an explicit allow-list).
   * Default {@link DEFAULT_JWT_ALGORITHMS} (asymmetric only). `none` is
   * refused here; `HS256`/`HS384`/`HS512` only together with `secret` and
   * then alone, so an HMAC can never be checked with a public key
   * (RFC 8725 §2.1, "key confusion").
   */
  algorithms?: readonly string[];
  /** A local JSON Web Key Set (RFC 7517 §5) of public keys. */
  jwks?: JSONWebKeySet;
  /** Public keys (PEM, JWK or `KeyObject`); a JWK's `kid` is kept for matching. */
  keys?: readonly VerificationKey[];
  /**
   * The URL of a remote JWKS (for example an IdP's `/.well-known/jwks.json`).
   * Fetched on first use and cached for `jwksCacheMs`; a token whose `kid`
   * is not in the cache triggers a refetch, at most once per
   * `jwksCooldownMs`. Keys are only ever fetched from here, never from a
   * token's `jku`, `x5u` or embedded `jwk`.
   */
  jwksUrl?: string | URL;
  /** Accept an `http:` `jwksUrl` on a host other than loopback (a trusted private network). Default false: https only, http for 127.0.0.1, localhost and [::1]. */
  allowHttpJwksUrl?: boolean;
  /** How long a fetched JWKS is used before it is fetched again, in ms: a key removed from the JWKS stops working within this time. Default 300 000 (5 min). */
  jwksCacheMs?: number;
  /** Smallest interval between fetches caused by unknown `kid`s, in ms (rate-limits refetching). Default 30 000. */
  jwksCooldownMs?: number;
  /** Time a JWKS fetch may take, in ms; slower fetches fail the call with UNAVAILABLE. Default 5 000. */
  jwksTimeoutMs?: number;
  /** An HMAC secret, at least 32 bytes, for `HS256`/`HS384`/`HS512` tokens (then `algorithms` must list only HS algorithms). */
  secret?: Uint8Array;
  /** Accepted `iss` value(s) (RFC 7519 §4.1.1); checked when given. */
  issuer?: string | readonly string[];
  /** Accepted `aud` value(s) (RFC 7519 §4.1.3); the token must name one of them. Checked when given. */
  audience?: string | readonly string[];
  /** Tolerance for `exp`, `nbf` and `iat` against the local clock, in ms. Default 60 000. */
  clockSkewMs?: number;
  /** Largest token accepted, in bytes; larger ones are refused before any decoding. Default 8192 (8 KiB). */
  maxTokenBytes?: number;
  /** When set, tokens whose `iat` is older than this, in ms, are refused (and `iat` becomes required). Default unset. */
  maxTokenAgeMs?: number;
  /** Required `typ` header (RFC 8725 §3.11), e.g. `"at+jwt"` (RFC 9068). Default: not checked. */
  typ?: string;
  /** Claims that must be present besides `exp`, which is always required. Default none. */
  requiredClaims?: readonly string[];
  /** The clock, ms since the Unix epoch. Default `Date.now`. */
  clock?: () => number;
}

/** A token that passed every check. */
export interface VerifiedJwt {
  /** The verified claims (RFC 7519 §4). */
  readonly claims: JWTPayload;
  /** The protected header. */
  readonly header: JWTHeaderParameters;
}

/** Verifies Bearer JWTs; see {@link createJwtVerifier}. */
export interface JwtVerifier {
  /** The configured issuers (empty when `iss` is not checked). */
  readonly issuers: readonly string[];
  /**
   * Verifies `token` (compact JWS, RFC 7515 §7.1). Resolves with its claims;
   * rejects with UNAUTHENTICATED naming the failed check (`size`, `format`,
   * `header`, `alg`, `crit`, `kid`, `signature`, `exp`, `nbf`, `iat`,
   * `iss`, `aud`, `typ`, `claims`), never containing the token; with
   * UNAVAILABLE when the remote JWKS cannot be fetched.
   */
  verify(token: string): Promise<VerifiedJwt>;
}

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey | Uint8Array>;

/**
 * Creates a JWT verifier following RFC 7519 and the best current practices
 * of RFC 8725: explicit algorithms, no `none`, no HMAC with public keys,
 * `exp` required, `exp`/`nbf` checked with `clockSkewMs`, `iss`/`aud`
 * checked when configured, unknown `crit` parameters refused, a maximum
 * token size, and keys only from the configuration (local JWKS, PEM/JWK
 * keys, a remote JWKS with caching, rotation and rate-limited refetch) —
 * never from the token's `jku`, `x5u`, `x5c` or `jwk` header, whose presence
 * alone rejects the token. Built on `jose`.
 *
 * @throws FerryError INVALID_ARGUMENT for a configuration that breaks these rules (no key source, `none` or HMAC with public keys, a private or symmetric key in `keys`, an out-of-range limit).
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const algorithms = checkAlgorithms(options);
  const clockSkewMs = limit(options.clockSkewMs, 60_000, "clockSkewMs", 0);
  const maxTokenBytes = limit(options.maxTokenBytes, 8192, "maxTokenBytes", 16);
  const clock = options.clock ?? Date.now;
  const resolver = keyResolver(options);
  const verifyOptions: JWTVerifyOptions = {
    algorithms: [...algorithms],
    clockTolerance: clockSkewMs / 1000,
    requiredClaims: ["exp", ...(options.requiredClaims ?? [])],
  };
  if (options.issuer !== undefined) verifyOptions.issuer = typeof options.issuer === "string" ? options.issuer : [...options.issuer];
  if (options.audience !== undefined) verifyOptions.audience = typeof options.audience === "string" ? options.audience : [...options.audience];
  if (options.maxTokenAgeMs !== undefined) verifyOptions.maxTokenAge = `${Math.floor(limit(options.maxTokenAgeMs, 0, "maxTokenAgeMs", 1000) / 1000)} s`;
  if (options.typ !== undefined) verifyOptions.typ = options.typ;
  const issuers = options.issuer === undefined ? [] : typeof options.issuer === "string" ? [options.issuer] : [...options.issuer];
  const allowed = new Set(algorithms);

  return {
    issuers,
    async verify(token: string): Promise<VerifiedJwt> {
      precheck(token, maxTokenBytes, allowed);
      try {
        const result = await jwtVerify(token, resolver, { ...verifyOptions, currentDate: new Date(clock()) });
        return { claims: result.payload, header: result.protectedHeader };
      } catch (err) {
        if (err instanceof errors.JWKSMultipleMatchingKeys) return verifyWithCandidates(token, err, verifyOptions, clock);
        throw verificationError(err, clockSkewMs);
      }
    },
  };
}

/** Cheap checks before any cryptography: size, compact form, header JSON, `alg`, key-source headers, `crit`. */
function precheck(token: string, maxTokenBytes: number, allowed: ReadonlySet<string>): void {
  if (token.length > maxTokenBytes) throw invalidToken("size", `token of ${token.length} bytes exceeds the limit of ${maxTokenBytes} bytes`);
  if (!COMPACT_JWS.test(token)) {
    const parts = token.split(".").length;
    throw invalidToken("format", parts === 5 ? "encrypted tokens (JWE) are not accepted" : "not a compact JWS (three base64url parts)");
  }
  const headerText = token.slice(0, token.indexOf("."));
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(headerText, "base64url").toString("utf8"));
  } catch {
    throw invalidToken("header", "not base64url-encoded JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw invalidToken("header", "not a JSON object");
  const h = header as Record<string, unknown>;
  const alg = h.alg;
  if (typeof alg !== "string") throw invalidToken("alg", "header has no alg");
  if (alg.toLowerCase() === "none") throw invalidToken("alg", "unsecured tokens (alg none) are never accepted");
  if (!allowed.has(alg)) throw invalidToken("alg", `${quoteInput(alg)} is not an allowed algorithm`);
  for (const name of KEY_SOURCE_HEADERS) {
    if (h[name] !== undefined) throw invalidToken("header", `"${name}" is not trusted: keys come only from the verifier's configuration`);
  }
  if (h.kid !== undefined && (typeof h.kid !== "string" || h.kid.length > 256)) throw invalidToken("kid", "must be a string of at most 256 characters");
  if (h.crit !== undefined) {
    if (!Array.isArray(h.crit) || h.crit.length === 0) throw invalidToken("crit", "must be a non-empty list");
    throw invalidToken("crit", `unsupported critical header parameter ${quoteInput(String(h.crit[0]))}`);
  }
}

async function verifyWithCandidates(token: string, err: errors.JWKSMultipleMatchingKeys, options: JWTVerifyOptions, clock: () => number): Promise<VerifiedJwt> {
  let last: unknown = err;
  for await (const key of err as unknown as AsyncIterable<CryptoKey>) {
    try {
      const result = await jwtVerify(token, key, { ...options, currentDate: new Date(clock()) });
      return { claims: result.payload, header: result.protectedHeader };
    } catch (e) {
      last = e;
      if (!(e instanceof errors.JWSSignatureVerificationFailed)) break;
    }
  }
  throw verificationError(last, Number(options.clockTolerance ?? 0) * 1000);
}

/** Maps jose's errors to UNAUTHENTICATED naming the check; never includes the token or its payload. */
function verificationError(err: unknown, clockSkewMs: number): FerryError {
  if (err instanceof FerryError) return err;
  if (err instanceof errors.JWTExpired) {
    if (err.claim === "iat") return invalidToken("iat", "token is older than the maximum token age");
    return invalidToken("exp", `token expired (clock skew allowed: ${clockSkewMs / 1000} s)`);
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = err.claim;
    if (err.reason === "missing") return invalidToken(claim, `required claim "${claim}" is missing`);
    if (err.reason === "invalid") return invalidToken(claim, `claim "${claim}" has an invalid value`);
    switch (claim) {
      case "nbf":
        return invalidToken("nbf", `token is not valid yet (clock skew allowed: ${clockSkewMs / 1000} s)`);
      case "iat":
        return invalidToken("iat", "issued-at time is invalid or too old");
      case "iss":
        return invalidToken("iss", "unexpected issuer");
      case "aud":
        return invalidToken("aud", "token is not for this audience");
      case "typ":
        return invalidToken("typ", "unexpected token type");
      default:
        return invalidToken(claim, "claim check failed");
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalidToken("signature", "signature verification failed");
  if (err instanceof errors.JOSEAlgNotAllowed) return invalidToken("alg", "algorithm not allowed");
  if (err instanceof errors.JWKSNoMatchingKey) return invalidToken("kid", "no trusted key matches the token");
  if (err instanceof errors.JWTInvalid) return invalidToken("claims", "payload is not a valid JWT claims set");
  if (err instanceof errors.JWSInvalid) return invalidToken("format", "malformed JWS");
  if (err instanceof errors.JOSENotSupported) return invalidToken("header", "unsupported JWS feature");
  if (err instanceof errors.JWKSTimeout) return new FerryError(Code.UNAVAILABLE, "JWKS fetch timed out; cannot verify tokens now");
  if (err instanceof errors.JWKSInvalid || err instanceof errors.JOSEError) return new FerryError(Code.UNAVAILABLE, "JWKS unavailable or invalid; cannot verify tokens now");
  if (err instanceof TypeError) return invalidToken("key", "the matching key does not fit the token's algorithm");
  return new FerryError(Code.UNAVAILABLE, "cannot verify tokens now: key source failed");
}

function keyResolver(options: JwtVerifierOptions): KeyResolver {
  const localKeys: JWK[] = [...(options.jwks?.keys ?? []).map((k, i) => publicJwk(k, `jwks.keys[${i}]`)), ...(options.keys ?? []).map((k, i) => publicJwk(k, `keys[${i}]`))];
  const local = localResolver(localKeys);
  let remote: KeyResolver | undefined;
  if (options.jwksUrl !== undefined) {
    const url = new URL(options.jwksUrl);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw config(`jwksUrl must be an http(s) URL, got ${url.protocol}`);
    if (url.protocol === "http:" && !LOOPBACK.has(url.hostname) && options.allowHttpJwksUrl !== true) {
      throw config("jwksUrl must use https: keys fetched in cleartext can be replaced on the way (http is accepted for loopback hosts, or with allowHttpJwksUrl)");
    }
    remote = guardRemote(createRemoteJWKSet(url, {
      cacheMaxAge: limit(options.jwksCacheMs, 300_000, "jwksCacheMs", 0),
      cooldownDuration: limit(options.jwksCooldownMs, 30_000, "jwksCooldownMs", 0),
      timeoutDuration: limit(options.jwksTimeoutMs, 5_000, "jwksTimeoutMs", 1),
    }));
  }
  const secret = options.secret;
  if (secret !== undefined) {
    if (local !== undefined || remote !== undefined) throw config("secret cannot be combined with public keys (jwks, keys, jwksUrl)");
    if (secret.byteLength < 32) throw config(`secret must be at least 32 bytes (RFC 7518 §3.2), got ${secret.byteLength}`);
    return () => Promise.resolve(secret);
  }
  if (local === undefined && remote === undefined) throw config("give at least one key source: jwks, keys, jwksUrl or secret");
  if (remote === undefined) return local!;
  if (local === undefined) return remote;
  const r = remote;
  return async (header, token) => {
    try {
      return await local(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) return r(header, token);
      throw err;
    }
  };
}

/** A remote JWKS whose network failures (refused connection, DNS, TLS) become UNAVAILABLE; jose's own errors pass through. */
function guardRemote(remote: KeyResolver): KeyResolver {
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      if (err instanceof errors.JOSEError) throw err;
      throw new FerryError(Code.UNAVAILABLE, "cannot fetch the JWKS; cannot verify tokens now", { cause: err });
    }
  };
}

/**
 * Local keys: matched by `kid` when the token names one; keys configured
 * without a `kid` (typically PEM keys) also match tokens with any `kid`,
 * by key type and algorithm only.
 */
function localResolver(keys: JWK[]): KeyResolver | undefined {
  if (keys.length === 0) return undefined;
  const all = createLocalJWKSet({ keys });
  const anonymous = keys.filter((k) => k.kid === undefined);
  if (anonymous.length === 0) return all;
  const withoutKid = createLocalJWKSet({ keys: anonymous });
  return async (header, token) => {
    try {
      return await all(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || header.kid === undefined) throw err;
      return withoutKid({ ...header, kid: undefined }, token);
    }
  };
}

/** A public JWK for `key`, keeping `kid`, `alg` and `use`; refuses symmetric and (with a clear message) private-only material. */
function publicJwk(key: VerificationKey | JWK, where: string): JWK {
  let object: KeyObject;
  try {
    if (key instanceof KeyObject) object = key.type === "private" ? createPublicKey(key) : key;
    else if (typeof key === "string") object = createPublicKey(key);
    else {
      if (key.kty === "oct") throw config(`${where} is a symmetric key; use the secret option with HS algorithms`);
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, k: _k, ...pub } = key as JWK & { oth?: unknown };
      object = createPublicKey({ key: pub as never, format: "jwk" });
    }
  } catch (err) {
    if (err instanceof FerryError) throw err;
    throw config(`${where} is not a usable public key: ${(err as Error).message}`);
  }
  if (object.type !== "public") throw config(`${where} is a symmetric key; use the secret option with HS algorithms`);
  const jwk = object.export({ format: "jwk" }) as JWK;
  if (typeof key === "object" && !(key instanceof KeyObject)) {
    if (key.kid !== undefined) jwk.kid = key.kid;
    if (key.alg !== undefined) jwk.alg = key.alg;
    if (key.use !== undefined) jwk.use = key.use;
  }
  return jwk;
}

function checkAlgorithms(options: JwtVerifierOptions): readonly string[] {
  const algorithms = options.algorithms ?? (options.secret !== undefined ? ["HS256"] : DEFAULT_JWT_ALGORITHMS);
  if (algorithms.length === 0) throw config("algorithms must not be empty");
  for (const alg of algorithms) {
    if (alg.toLowerCase() === "none") throw config('algorithm "none" is never accepted (RFC 8725 §3.1)');
    if (HMAC.test(alg) && options.secret === undefined) throw config(`${alg} needs the secret option; an HMAC is never checked with a public key (RFC 8725 §2.1)`);
    if (!HMAC.test(alg) && options.secret !== undefined) throw config(`${alg} cannot be used with a secret; list only HS256, HS384 or HS512`);
  }
  return algorithms;
}

function limit(value: number | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) throw config(`${name} must be a finite number >= ${min}, got ${value}`);
  return value;
}

function config(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `JWT verifier: ${message}`);
}
