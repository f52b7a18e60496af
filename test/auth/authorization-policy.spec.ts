/** The authorization policy alone: validation, name lookup like methodConfig, and each kind of condition. */
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { parseAuthorizationPolicy, PolicyEngine, scopesOf, serviceIdentityOf, type Principal } from "../../src/auth/index.js";
import { methodInfo } from "../../src/contract/method-info.js";
import { Code } from "../../src/index.js";
import { CartService, GetCartRequestSchema } from "../../examples/shop/gen/shop/v1/cart_pb.js";

const getCart = methodInfo(CartService.method.getCart);
const addItem = methodInfo(CartService.method.addItem);
const clearCart = methodInfo(CartService.method.clearCart);
const user = (claims: Record<string, unknown>): Principal => ({ subject: claims.sub as string | undefined, claims, scopes: scopesOf(claims), service: undefined });
const service = (id: string): Principal => ({ subject: undefined, claims: {}, scopes: new Set(), service: { id, uris: [id], dnsNames: [], commonName: undefined, fingerprint256: "" } });
const annCart = create(GetCartRequestSchema, { userId: "ann" });

describe("parseAuthorizationPolicy", () => {
  it("names the bad entry", () => {
    const bad: [unknown, RegExp][] = [
      ["{", /the policy is not valid JSON/],
      [{ rule: [] }, /rule is not a known field/],
      [{ rules: [{ name: [] }] }, /rules\[0\].name must be a non-empty list/],
      [{ rules: [{ name: [{ method: "GetCart" }] }] }, /rules\[0\].name\[0\] names a method without a service/],
      [{ rules: [{ name: [{}], scopes: "a" }] }, /rules\[0\].scopes must be a list of non-empty strings/],
      [{ rules: [{ name: [{}], public: "yes" }] }, /rules\[0\].public must be true or false/],
      [{ rules: [{ name: [{}], allow: true }] }, /rules\[0\].allow is not a known field/],
      [{ rules: [{ name: [{}], public: true, scopes: ["x"] }] }, /is public and sets other conditions/],
      [{ rules: [{ name: [{}], fieldMatches: [{ claim: "sub" }] }] }, /fieldMatches\[0\] must be \{claim: string, field: string\}/],
      [{ rules: [{ name: [{ service: "a.B" }], public: true }, { name: [{ service: "a.B" }], authenticated: true }] }, /rules\[1\].name repeats "a.B" of rules\[0\]/],
    ];
    for (const [input, message] of bad) {
      let thrown: unknown;
      try {
        parseAuthorizationPolicy(input);
      } catch (err) {
        thrown = err;
      }
      expect((thrown as { code?: Code }).code, String(message)).toBe(Code.INVALID_ARGUMENT);
      expect(String((thrown as Error).message)).toMatch(message);
    }
  });

  it("accepts JSON text", () => {
    expect(parseAuthorizationPolicy('{"rules":[{"name":[{}],"authenticated":true}]}').rules).toHaveLength(1);
  });
});

describe("PolicyEngine", () => {
  it("looks rules up like methodConfig: method, then service, then the default", () => {
    const engine = new PolicyEngine({
      rules: [
        { name: [{ service: "shop.v1.CartService", method: "GetCart" }], public: true },
        { name: [{ service: "shop.v1.CartService" }], authenticated: true },
        { name: [{}], services: ["*"] },
      ],
    });
    expect(engine.ruleFor(getCart)?.public).toBe(true);
    expect(engine.ruleFor(addItem)?.authenticated).toBe(true);
    const other = methodInfo(CartService.method.clearCart);
    expect(engine.ruleFor(other)?.authenticated).toBe(true);
    const withoutService = new PolicyEngine({ rules: [{ name: [{}], services: ["*"] }] });
    expect(withoutService.ruleFor(getCart)?.services).toEqual(["*"]);
  });

  it("denies methods no rule covers once a policy is set", () => {
    const engine = new PolicyEngine({ rules: [{ name: [{ service: "shop.v1.CartService", method: "GetCart" }], authenticated: true }] });
    const d = engine.decide(clearCart, user({ sub: "ann" }), undefined);
    expect(d.allowed).toBe(false);
    expect(!d.allowed && d.error.code).toBe(Code.PERMISSION_DENIED);
  });

  it("checks scopes (scope and scp), claims (values and lists, dotted paths) and request fields", () => {
    const engine = new PolicyEngine({
      rules: [
        { name: [{ service: "shop.v1.CartService", method: "GetCart" }], scopes: ["cart:read"], claims: { "org.tier": ["gold", "silver"], roles: "reader" }, fieldMatches: [{ claim: "sub", field: "user_id" }] },
      ],
    });
    const ok = { sub: "ann", scp: ["cart:read"], org: { tier: "gold" }, roles: ["reader", "x"] };
    expect(engine.decide(getCart, user(ok), annCart).allowed).toBe(true);
    const reasons = [
      [{ ...ok, scp: undefined, scope: "cart:write" }, 'needs scope "cart:read"'],
      [{ ...ok, org: { tier: "bronze" } }, 'needs claim "org.tier" to be one of "gold", "silver"'],
      [{ ...ok, roles: ["writer"] }, 'needs claim "roles" to be "reader"'],
      [{ ...ok, sub: "bob" }, 'needs claim "sub" to equal request field user_id'],
      [{ ...ok, sub: 7 }, 'needs claim "sub" to equal request field user_id'],
    ] as const;
    for (const [claims, reason] of reasons) {
      const d = engine.decide(getCart, user(claims), annCart);
      expect(!d.allowed && d.error.rawMessage, reason).toBe(`/shop.v1.CartService/GetCart ${reason}`);
    }
    expect(engine.decide(getCart, user(ok), undefined).allowed).toBe(false); // streaming requests cannot be field-checked
  });

  it("a field the request type lacks denies, naming the field", () => {
    const engine = new PolicyEngine({ rules: [{ name: [{ service: "shop.v1.CartService" }], fieldMatches: [{ claim: "sub", field: "owner" }] }] });
    const d = engine.decide(getCart, user({ sub: "ann" }), annCart);
    expect(!d.allowed && d.error.rawMessage).toBe('/shop.v1.CartService/GetCart: the policy names field "owner", which shop.v1.GetCartRequest does not have');
  });

  it("service identities: listed ones pass, others and users do not unless the rule has user conditions", () => {
    const engine = new PolicyEngine({ rules: [{ name: [{}], services: ["spiffe://x/order"] }] });
    expect(engine.decide(getCart, service("spiffe://x/order"), annCart).allowed).toBe(true);
    const other = engine.decide(getCart, service("spiffe://x/mallory"), annCart);
    expect(!other.allowed && other.error.rawMessage).toBe("service spiffe://x/mallory may not call /shop.v1.CartService/GetCart");
    const u = engine.decide(getCart, user({ sub: "ann" }), annCart);
    expect(!u.allowed && u.error.rawMessage).toBe("/shop.v1.CartService/GetCart may not be called with a user token");
  });
});

describe("serviceIdentityOf", () => {
  const cert = (san: string | undefined, authorized = true, cn = "workload") =>
    ({ subjectaltname: san, subject: { CN: cn }, fingerprint256: "AB:CD", authorized }) as never;
  it("takes the first URI SAN, else the CN; unverified certificates name nobody", () => {
    expect(serviceIdentityOf(cert("DNS:localhost, URI:spiffe://shop.local/order, URI:spiffe://other"))).toEqual({
      id: "spiffe://shop.local/order",
      uris: ["spiffe://shop.local/order", "spiffe://other"],
      dnsNames: ["localhost"],
      commonName: "workload",
      fingerprint256: "AB:CD",
    });
    expect(serviceIdentityOf(cert("DNS:a"))?.id).toBe("workload");
    expect(serviceIdentityOf(cert('URI:"spiffe://x/a,b"'))?.id).toBe("spiffe://x/a,b");
    expect(serviceIdentityOf(cert("URI:spiffe://x", false))).toBeUndefined();
    expect(serviceIdentityOf(undefined)).toBeUndefined();
  });
});
