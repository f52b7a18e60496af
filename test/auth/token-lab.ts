/**
 * Keys, valid tokens and forged tokens for the auth specs. Every forged
 * token names the check that must reject it.
 */
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign, type KeyObject } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, SignJWT, type JWK, type JWTPayload } from "jose";

export const ISSUER = "https://id.test.ferry";
export const AUDIENCE = "ferry-tests";
export const KID = "trusted-es256";

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;
  readonly alg: string;
}

export function ecKey(kid: string): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { privateKey, publicKey, kid, alg: "ES256" };
}
export function rsaKey(kid: string): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey, publicKey, kid, alg: "RS256" };
}
export function edKey(kid: string): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey, kid, alg: "EdDSA" };
}

/** The public JWK of `key`, with its kid, alg and use. */
export async function publicJwk(key: KeyPair): Promise<JWK> {
  return { ...(await exportJWK(key.publicKey)), kid: key.kid, alg: key.alg, use: "sig" };
}

const nowS = () => Math.floor(Date.now() / 1000);

/** A token signed by `key` with sensible defaults (iss, aud, exp in 5 min, sub "ann"); `claims` and `header` override. */
export async function signToken(key: KeyPair, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, sub: "ann", iat: nowS(), exp: nowS() + 300, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header }).sign(key.privateKey);
}

const b64 = (v: string | Buffer | Uint8Array) => Buffer.from(v).toString("base64url");
const json = (v: unknown) => b64(JSON.stringify(v));

/** A compact JWS assembled by hand: header and payload as given, signature from `signature` (bytes) or none. */
export function rawToken(header: unknown, payload: unknown, signature: Buffer | string = ""): string {
  return `${json(header)}.${json(payload)}.${typeof signature === "string" ? signature : b64(signature)}`;
}

function defaultPayload(extra: JWTPayload = {}): JWTPayload {
  return { iss: ISSUER, aud: AUDIENCE, sub: "ann", iat: nowS(), exp: nowS() + 300, ...extra };
}

function hs256(header: unknown, payload: unknown, secret: Buffer | string): string {
  const input = `${json(header)}.${json(payload)}`;
  return `${input}.${b64(createHmac("sha256", secret).update(input).digest())}`;
}

function es256Raw(header: unknown, payload: unknown, key: KeyObject): string {
  const input = `${json(header)}.${json(payload)}`;
  return `${input}.${b64(nodeSign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }))}`;
}

/** A server standing for an attacker's key host: counts every request it gets (it must get none). */
export interface AttackerHost {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startAttackerHost(attacker: KeyPair): Promise<AttackerHost> {
  const jwk = await publicJwk(attacker);
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

/** Bytes outside base64url are refused by the verifier, or earlier by the Bearer syntax check (RFC 6750 §2.1 b64token) when sent in a header. */
const BAD_FORMAT = /format: (not a compact JWS|authorization is not "Bearer <token>")/;

/** One forged or malformed token and the check its rejection message must name. */
export interface ForgedCase {
  readonly name: string;
  readonly token: string;
  /** A fragment of the expected message, e.g. `"alg"`, `"exp"`, `"signature"`. */
  readonly check: RegExp;
}

/**
 * The forged-token table. `trusted` is the issuer's key (published in the
 * verifier's JWKS under {@link KID}); `attacker` is a key nobody trusts.
 */
export async function forgedCases(trusted: KeyPair, attacker: KeyPair, attackerUrl: string): Promise<ForgedCase[]> {
  const valid = await signToken(trusted);
  const [vh, vp, vs] = valid.split(".");
  const pubPem = trusted.publicKey.export({ type: "spki", format: "pem" }) as string;
  const pubDer = trusted.publicKey.export({ type: "spki", format: "der" });
  const pubJwk = JSON.stringify(await publicJwk(trusted));
  const attackerJwk = await publicJwk(attacker);
  const hsHeader = { alg: "HS256", kid: KID, typ: "JWT" };
  const p = defaultPayload();
  const atk = { ...attacker, kid: KID };
  const cases: ForgedCase[] = [
    { name: "alg none, empty signature", token: rawToken({ alg: "none", typ: "JWT" }, p), check: /alg: unsecured/ },
    { name: "alg None", token: rawToken({ alg: "None", typ: "JWT" }, p), check: /alg: unsecured/ },
    { name: "alg NONE", token: rawToken({ alg: "NONE" }, p), check: /alg: unsecured/ },
    { name: "alg nOnE", token: rawToken({ alg: "nOnE" }, p), check: /alg: unsecured/ },
    { name: "alg none carrying a valid token's signature", token: `${json({ alg: "none", kid: KID })}.${vp}.${vs}`, check: /alg: unsecured/ },
    { name: "HS256 signed with the public key (PEM)", token: hs256(hsHeader, p, pubPem), check: /alg: "HS256" is not an allowed algorithm/ },
    { name: "HS256 signed with the public key (PEM, no trailing newline)", token: hs256(hsHeader, p, pubPem.trim()), check: /alg: "HS256"/ },
    { name: "HS256 signed with the public key (DER)", token: hs256(hsHeader, p, pubDer), check: /alg: "HS256"/ },
    { name: "HS256 signed with the public key (JWK JSON)", token: hs256(hsHeader, p, pubJwk), check: /alg: "HS256"/ },
    { name: "HS512 signed with the public key (base64 DER)", token: (() => {
      const input = `${json({ ...hsHeader, alg: "HS512" })}.${json(p)}`;
      return `${input}.${b64(createHmac("sha512", pubDer.toString("base64")).update(input).digest())}`;
    })(), check: /alg: "HS512"/ },
    { name: "expired beyond the clock skew (exp = now - 120 s)", token: await signToken(trusted, { exp: nowS() - 120, iat: nowS() - 600 }), check: /exp: token expired/ },
    { name: "nbf in the future beyond the skew (now + 120 s)", token: await signToken(trusted, { nbf: nowS() + 120 }), check: /nbf: token is not valid yet/ },
    { name: "wrong iss", token: await signToken(trusted, { iss: "https://evil.example" }), check: /iss: unexpected issuer/ },
    { name: "wrong aud", token: await signToken(trusted, { aud: "another-api" }), check: /aud: token is not for this audience/ },
    { name: "missing exp", token: await signToken(trusted, { exp: undefined }), check: /exp: required claim "exp" is missing/ },
    { name: "exp as a string", token: await signToken(trusted, { exp: "9999999999" as unknown as number }), check: /exp|claims/ },
    { name: "unknown crit header", token: es256Raw({ alg: "ES256", kid: KID, crit: ["urn:evil:ignore-me"], "urn:evil:ignore-me": true }, p, trusted.privateKey), check: /crit: unsupported critical header parameter/ },
    { name: "kid with path traversal (ES256, attacker key)", token: await signToken({ ...attacker, kid: "../../../../../../dev/null" }), check: /kid: no trusted key/ },
    { name: "kid with path traversal, HS256 with an empty key", token: hs256({ alg: "HS256", kid: "../../../../dev/null" }, p, ""), check: /alg: "HS256"/ },
    { name: "jku pointing at the attacker's JWKS", token: await signToken(atk, {}, { jku: `${attackerUrl}/jwks.json` }), check: /header: "jku" is not trusted/ },
    { name: "x5u pointing at the attacker's certificate", token: await signToken(atk, {}, { x5u: `${attackerUrl}/cert.pem` }), check: /header: "x5u" is not trusted/ },
    { name: "embedded jwk of the attacker's key", token: await signToken(atk, {}, { jwk: attackerJwk }), check: /header: "jwk" is not trusted/ },
    { name: "embedded x5c chain", token: await signToken(atk, {}, { x5c: ["MIIBfake"] }), check: /header: "x5c" is not trusted/ },
    { name: "a token of 64 KiB", token: await signToken(trusted, { pad: "x".repeat(64 * 1024) }), check: /size: token of \d+ bytes exceeds the limit of 8192 bytes/ },
    { name: "bad base64 in the header", token: `${vh.slice(0, 10)}!!!${vh.slice(10)}.${vp}.${vs}`, check: BAD_FORMAT },
    { name: "bad base64 in the signature", token: `${vh}.${vp}.${vs.slice(0, 20)}*/+${vs.slice(20)}`, check: BAD_FORMAT },
    { name: "header that is not JSON", token: `${b64("{alg:ES256")}.${vp}.${vs}`, check: /header: not base64url-encoded JSON/ },
    { name: "two parts only", token: `${vh}.${vp}`, check: /format: not a compact JWS/ },
    { name: "five parts (JWE)", token: `${vh}.${vp}.${vs}.aaaa.bbbb`, check: /format: encrypted tokens/ },
    { name: "signature from another key under the trusted kid", token: await signToken(atk), check: /signature: signature verification failed/ },
    { name: "ES256 with r = s = 0 (CVE-2022-21449)", token: `${vh}.${vp}.${b64(Buffer.alloc(64))}`, check: /signature/ },
    { name: "ES256 with r = s = n (the curve order)", token: `${vh}.${vp}.${b64(Buffer.concat([Buffer.from("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", "hex"), Buffer.from("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", "hex")]))}`, check: /signature/ },
    { name: "signature stripped", token: `${vh}.${vp}.`, check: /signature|format/ },
    { name: "payload changed after signing (sub: admin)", token: `${vh}.${json({ ...JSON.parse(Buffer.from(vp, "base64url").toString()), sub: "admin" })}.${vs}`, check: /signature: signature verification failed/ },
    { name: "alg changed to ES384 after signing", token: `${json({ alg: "ES384", kid: KID, typ: "JWT" })}.${vp}.${vs}`, check: /signature|kid/ },
    { name: "RS256 header against the EC key's kid", token: `${json({ alg: "RS256", kid: KID })}.${vp}.${vs}`, check: /kid: no trusted key|key/ },
    { name: "payload that is not JSON", token: es256Raw({ alg: "ES256", kid: KID }, "not-an-object", trusted.privateKey).replace(/^([^.]+)\.[^.]+\./, `$1.${b64("not json")}.`), check: /signature|claims|format/ },
    { name: "payload that is a JSON array, properly signed", token: (() => {
      const input = `${json({ alg: "ES256", kid: KID })}.${b64("[1,2]")}`;
      return `${input}.${b64(nodeSign("sha256", Buffer.from(input), { key: trusted.privateKey, dsaEncoding: "ieee-p1363" }))}`;
    })(), check: /claims: payload is not a valid JWT claims set/ },
  ];
  return cases;
}

/** Reads a PEM back into a KeyObject (used to show PEM keys are accepted). */
export function pemOf(key: KeyPair): string {
  return key.publicKey.export({ type: "spki", format: "pem" }) as string;
}

export { createPrivateKey, createPublicKey };
