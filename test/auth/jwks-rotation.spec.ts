/**
 * A remote JWKS served by a real HTTP server on 127.0.0.1: fetched once and
 * cached, a new kid fetched on first sight, a removed kid refused once the
 * cache expires, refetching rate-limited, one fetch for concurrent cold
 * calls, and an unreachable JWKS reported as UNAVAILABLE.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JWK } from "jose";
import { createJwtVerifier } from "../../src/auth/index.js";
import { Code } from "../../src/index.js";
import { rejection } from "../support/rejection.js";
import { AUDIENCE, ISSUER, ecKey, edKey, publicJwk, signToken } from "./token-lab.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("remote JWKS", () => {
  const keyA = ecKey("key-a");
  const keyB = edKey("key-b");
  let published: JWK[] = [];
  let fetches = 0;
  let failing = false;
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      fetches++;
      if (failing) return void res.writeHead(500).end("down");
      res.writeHead(200, { "content-type": "application/jwk-set+json" });
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  }));

  it("rotates: a new kid is fetched, a removed kid stops working within the cache time", async () => {
    published = [await publicJwk(keyA)];
    fetches = 0;
    const verifier = createJwtVerifier({ jwksUrl: url, issuer: ISSUER, audience: AUDIENCE, jwksCacheMs: 2000, jwksCooldownMs: 50 });
    expect((await verifier.verify(await signToken(keyA))).claims.sub).toBe("ann");
    await verifier.verify(await signToken(keyA, { sub: "bob" }));
    expect(fetches).toBe(1); // cached

    published = [await publicJwk(keyA), await publicJwk(keyB)];
    await sleep(80); // past the cooldown
    expect((await verifier.verify(await signToken(keyB))).header.kid).toBe("key-b");
    expect(fetches).toBe(2); // the unknown kid caused one fetch

    published = [await publicJwk(keyB)];
    await verifier.verify(await signToken(keyA)); // still cached: key A works until the cache expires
    await sleep(2100);
    const err = await rejection(verifier.verify(await signToken(keyA)));
    expect(err.code).toBe(Code.UNAUTHENTICATED);
    expect(err.rawMessage).toBe("invalid token: kid: no trusted key matches the token");
    expect((await verifier.verify(await signToken(keyB))).header.kid).toBe("key-b");
  });

  it("rate-limits refetching: unknown kids within the cooldown fetch nothing", async () => {
    published = [await publicJwk(keyA)];
    fetches = 0;
    const verifier = createJwtVerifier({ jwksUrl: url, issuer: ISSUER, audience: AUDIENCE, jwksCooldownMs: 60_000 });
    await verifier.verify(await signToken(keyA));
    for (let i = 0; i < 20; i++) {
      const stranger = ecKey(`random-${i}`);
      const err = await rejection(verifier.verify(await signToken(stranger)));
      expect(err.rawMessage).toBe("invalid token: kid: no trusted key matches the token");
    }
    expect(fetches).toBe(1);
  });

  it("fetches once for concurrent calls on a cold cache", async () => {
    published = [await publicJwk(keyA)];
    fetches = 0;
    const verifier = createJwtVerifier({ jwksUrl: url, issuer: ISSUER, audience: AUDIENCE });
    const token = await signToken(keyA);
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    expect(results).toHaveLength(20);
    expect(fetches).toBe(1);
  });

  it("an unreachable or failing JWKS is UNAVAILABLE, not UNAUTHENTICATED", async () => {
    failing = true;
    try {
      const verifier = createJwtVerifier({ jwksUrl: url, jwksTimeoutMs: 1000 });
      const err = await rejection(verifier.verify(await signToken(keyA)));
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.rawMessage).toMatch(/JWKS/);
    } finally {
      failing = false;
    }
    const closed = createJwtVerifier({ jwksUrl: "http://127.0.0.1:1/jwks.json", jwksTimeoutMs: 1000 });
    expect((await rejection(closed.verify(await signToken(keyA)))).code).toBe(Code.UNAVAILABLE);
  });

  it("local keys are tried first, then the remote JWKS", async () => {
    published = [await publicJwk(keyB)];
    const verifier = createJwtVerifier({ jwks: { keys: [await publicJwk(keyA)] }, jwksUrl: url, jwksCooldownMs: 0 });
    expect((await verifier.verify(await signToken(keyA))).header.kid).toBe("key-a");
    expect((await verifier.verify(await signToken(keyB))).header.kid).toBe("key-b");
  });
});
