/**
 * The JWT verifier alone: every forged token of the table is refused with
 * UNAUTHENTICATED naming its check and never echoing the token; valid tokens
 * of every allowed algorithm and key form are accepted.
 */
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJwtVerifier, type JwtVerifier } from "../../src/auth/index.js";
import { Code } from "../../src/index.js";
import { rejection } from "../support/rejection.js";
import { AUDIENCE, ISSUER, KID, ecKey, edKey, forgedCases, pemOf, publicJwk, rsaKey, signToken, startAttackerHost, type AttackerHost, type ForgedCase } from "./token-lab.js";

describe("createJwtVerifier", () => {
  const trusted = ecKey(KID);
  const rsa = rsaKey("trusted-rs256");
  const ed = edKey("trusted-eddsa");
  const attacker = ecKey("attacker");
  let host: AttackerHost;
  let verifier: JwtVerifier;
  let cases: ForgedCase[];

  beforeAll(async () => {
    host = await startAttackerHost(attacker);
    verifier = createJwtVerifier({ jwks: { keys: [await publicJwk(trusted), await publicJwk(rsa)] }, keys: [pemOf(ed)], issuer: ISSUER, audience: AUDIENCE });
    cases = await forgedCases(trusted, attacker, host.url);
  });
  afterAll(() => host.close());

  it("has at least 25 forged cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it("rejects every forged token with UNAUTHENTICATED naming the check, without echoing the token, and fetches nothing", async () => {
    const timings: number[] = [];
    const results: string[] = [];
    for (const c of cases) {
      const start = performance.now();
      const err = await rejection(verifier.verify(c.token));
      timings.push(performance.now() - start);
      results.push(`${c.name} -> ${err.rawMessage}`);
      expect(err.code, c.name).toBe(Code.UNAUTHENTICATED);
      expect(err.rawMessage, c.name).toMatch(c.check);
      expect(err.rawMessage.length, c.name).toBeLessThan(200);
      for (const part of c.token.split(".")) if (part.length >= 12) expect(err.rawMessage, c.name).not.toContain(part.slice(0, 12));
      expect(err.metadata.getText("www-authenticate"), c.name).toMatch(/^Bearer error="invalid_token", error_description="invalid token: /);
    }
    expect(host.requests).toEqual([]);
    timings.sort((a, b) => a - b);
    // A measurement for the report, not an assertion (tests never assert speed).
    console.log(`forged tokens: ${cases.length}, rejection time median ${timings[timings.length >> 1].toFixed(3)} ms, max ${timings[timings.length - 1].toFixed(3)} ms\n${results.join("\n")}`);
  });

  it("accepts valid ES256, RS256 and EdDSA tokens from a JWKS and a PEM key", async () => {
    for (const key of [trusted, rsa, ed]) {
      const { claims } = await verifier.verify(await signToken(key, { scope: "cart:read cart:write" }));
      expect(claims.sub).toBe("ann");
    }
  });

  it("accepts exp and nbf within the default clock skew of 60 s", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(verifier.verify(await signToken(trusted, { exp: now - 30 }))).resolves.toBeDefined();
    await expect(verifier.verify(await signToken(trusted, { nbf: now + 30 }))).resolves.toBeDefined();
  });

  it("honours a configured clockSkewMs and maxTokenBytes", async () => {
    const strict = createJwtVerifier({ jwks: { keys: [await publicJwk(trusted)] }, clockSkewMs: 0, maxTokenBytes: 600 });
    const now = Math.floor(Date.now() / 1000);
    expect((await rejection(strict.verify(await signToken(trusted, { exp: now - 5 })))).rawMessage).toMatch(/^invalid token: exp/);
    expect((await rejection(strict.verify(await signToken(trusted, { pad: "y".repeat(700) })))).rawMessage).toMatch(/^invalid token: size: token of \d+ bytes exceeds the limit of 600 bytes/);
  });

  it("accepts several audiences and issuers when configured as lists", async () => {
    const v = createJwtVerifier({ jwks: { keys: [await publicJwk(trusted)] }, issuer: ["a", ISSUER], audience: ["x", AUDIENCE] });
    await expect(v.verify(await signToken(trusted))).resolves.toBeDefined();
  });

  it("checks typ and the token age when configured", async () => {
    const jwks = { keys: [await publicJwk(trusted)] };
    const v = createJwtVerifier({ jwks, typ: "at+jwt", maxTokenAgeMs: 60_000 });
    expect((await v.verify(await signToken(trusted, {}, { typ: "at+jwt" }))).claims.sub).toBe("ann");
    expect((await rejection(v.verify(await signToken(trusted)))).rawMessage).toBe("invalid token: typ: unexpected token type");
    const old = Math.floor(Date.now() / 1000) - 3600;
    expect((await rejection(v.verify(await signToken(trusted, { iat: old }, { typ: "at+jwt" })))).rawMessage).toMatch(/^invalid token: iat: /);
    expect((await rejection(v.verify(await signToken(trusted, { iat: undefined }, { typ: "at+jwt" })))).rawMessage).toBe('invalid token: iat: required claim "iat" is missing');
  });

  it("HS256 works only with a secret, and then refuses asymmetric tokens", async () => {
    const secret = new Uint8Array(32).fill(7);
    const v = createJwtVerifier({ secret });
    const { SignJWT } = await import("jose");
    const token = await new SignJWT({ sub: "svc" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m").sign(secret);
    expect((await v.verify(token)).claims.sub).toBe("svc");
    expect((await rejection(v.verify(await signToken(trusted)))).rawMessage).toMatch(/alg: "ES256" is not an allowed algorithm/);
  });

  it("refuses unsafe configurations with INVALID_ARGUMENT", async () => {
    const jwks = { keys: [await publicJwk(trusted)] };
    expect(() => createJwtVerifier({})).toThrow(/at least one key source/);
    expect(() => createJwtVerifier({ jwks, algorithms: ["none"] })).toThrow(/"none" is never accepted/);
    expect(() => createJwtVerifier({ jwks, algorithms: ["HS256"] })).toThrow(/HS256 needs the secret option/);
    expect(() => createJwtVerifier({ secret: new Uint8Array(8) })).toThrow(/at least 32 bytes/);
    expect(() => createJwtVerifier({ jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] } })).toThrow(/symmetric key/);
    expect(() => createJwtVerifier({ jwks, clockSkewMs: -1 })).toThrow(/clockSkewMs/);
    expect(() => createJwtVerifier({ jwksUrl: "file:///etc/passwd" })).toThrow(/http\(s\) URL/);
    expect(() => createJwtVerifier({ jwksUrl: "http://idp.example.com/jwks.json" })).toThrow(/jwksUrl must use https/);
    expect(() => createJwtVerifier({ jwksUrl: "http://idp.internal/jwks.json", allowHttpJwksUrl: true })).not.toThrow();
    expect(() => createJwtVerifier({ jwksUrl: "http://127.0.0.1:8080/jwks.json" })).not.toThrow();
  });
});
