/**
 * The shop's security: a development identity provider (tokens for any user
 * id, signed with an ES256 key generated at start-up), optional trust in an
 * external identity provider, and the authorization policy.
 */
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { Code, FerryError } from "../../src/index.js";
import { combineVerifiers, createAuthInterceptor, createJwtVerifier, principalOf, type AuthorizationPolicy, type JwtVerifier } from "../../src/auth/index.js";
import type { Interceptor } from "../../src/rpc/interceptor.js";
import type { GatewayJsonRoute } from "../../src/gateway/index.js";
import type { ServiceImpl } from "../../src/rpc/service-impl.js";
import type { OrderService } from "./gen/shop/v1/order_pb.js";

/** `iss` of the development identity provider's tokens. */
export const DEV_ISSUER = "urn:ferry:shop:dev-idp";
/** `aud` of the development identity provider's tokens (and the audience the shop expects). */
export const DEV_AUDIENCE = "ferry-shop";
/** Lifetime of a development token, in seconds. */
export const DEV_TOKEN_TTL_SECONDS = 900;

/** Options of the shop's authentication (`startShop({ auth })`). */
export interface ShopAuthOptions {
  /** Also trust tokens of an external identity provider: its JWKS URL, `iss` and `aud`. */
  external?: { jwksUrl: string; issuer: string; audience: string };
}

/** The shop's identity provider for development. */
export interface DevIdentityProvider {
  /** A token for `userId` (`sub`), signed ES256, valid {@link DEV_TOKEN_TTL_SECONDS}. */
  issueToken(userId: string): Promise<string>;
  /** The public JWKS. */
  readonly jwks: { keys: JWK[] };
  /** `POST /v1/auth/token` and `GET /.well-known/jwks.json`. */
  readonly routes: readonly GatewayJsonRoute[];
}

const USER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Creates the development identity provider: a fresh key pair per start, so tokens of an earlier run stop working. */
export async function createDevIdentityProvider(): Promise<DevIdentityProvider> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const kid = `dev-${randomUUID().slice(0, 8)}`;
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" }] };
  const issueToken = (userId: string) =>
    new SignJWT({ scope: "shop" })
      .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
      .setSubject(userId)
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${DEV_TOKEN_TTL_SECONDS}s`)
      .sign(privateKey);
  const routes: GatewayJsonRoute[] = [
    {
      verb: "POST",
      path: "/v1/auth/token",
      async handle({ body }) {
        const userId = (body as { userId?: unknown } | undefined)?.userId;
        if (typeof userId !== "string" || !USER_ID.test(userId)) {
          throw new FerryError(Code.INVALID_ARGUMENT, 'send {"userId": "…"}: 1 to 64 letters, digits, ".", "_" or "-"');
        }
        return { accessToken: await issueToken(userId), tokenType: "Bearer", expiresIn: DEV_TOKEN_TTL_SECONDS };
      },
    },
    { verb: "GET", path: "/.well-known/jwks.json", handle: () => jwks },
  ];
  return { issueToken, jwks, routes };
}

const own = [{ claim: "sub", field: "user_id" }];

/**
 * Who may call what: products are public; carts, checkout and notifications
 * of `{user_id}` need a token whose `sub` is that user; an order needs a
 * token and belongs to its user (checked by the handler, see
 * {@link ownOrdersOnly}); analytics need any token. Payment and the
 * inventory's Reserve and Release are for the shop's own services only: no
 * rule names them, so callers from outside are denied.
 */
export const shopPolicy: AuthorizationPolicy = {
  rules: [
    { name: [{ service: "shop.v1.InventoryService", method: "ListProducts" }, { service: "shop.v1.InventoryService", method: "GetProduct" }, { service: "shop.v1.InventoryService", method: "WatchStock" }], public: true },
    { name: [{ service: "shop.v1.CartService" }], fieldMatches: own },
    { name: [{ service: "shop.v1.OrderService", method: "Checkout" }, { service: "shop.v1.OrderService", method: "ListOrders" }], fieldMatches: own },
    { name: [{ service: "shop.v1.OrderService", method: "GetOrder" }], authenticated: true },
    { name: [{ service: "shop.v1.NotificationService" }], fieldMatches: own },
    { name: [{ service: "shop.v1.AnalyticsService" }], authenticated: true },
    { name: [{ service: "grpc.reflection.v1.ServerReflection" }, { service: "grpc.reflection.v1alpha.ServerReflection" }], public: true },
  ],
};

/** The shop's authentication: its verifier(s) and the server interceptor enforcing {@link shopPolicy}. */
export interface ShopAuth {
  readonly idp: DevIdentityProvider;
  /** The dev IdP's verifier, plus the external IdP's when configured (picked by `iss`). */
  readonly verifier: JwtVerifier;
  readonly interceptor: Interceptor;
}

/** Sets up the shop's authentication. */
export async function createShopAuth(options: ShopAuthOptions = {}): Promise<ShopAuth> {
  const idp = await createDevIdentityProvider();
  const verifiers = [createJwtVerifier({ jwks: idp.jwks, issuer: DEV_ISSUER, audience: DEV_AUDIENCE })];
  const ext = options.external;
  if (ext !== undefined) verifiers.push(createJwtVerifier({ jwksUrl: ext.jwksUrl, issuer: ext.issuer, audience: ext.audience }));
  const verifier = combineVerifiers(verifiers);
  return { idp, verifier, interceptor: createAuthInterceptor({ jwt: verifiers, policy: shopPolicy }) };
}

type GetOrder = NonNullable<ServiceImpl<typeof OrderService>["getOrder"]>;

/** Wraps GetOrder so that a caller with a token sees only their own orders (PERMISSION_DENIED otherwise). */
export function ownOrdersOnly(getOrder: GetOrder): GetOrder {
  return async (req, ctx) => {
    const order = await getOrder(req, ctx);
    const subject = principalOf(ctx)?.subject;
    if (subject !== undefined && subject !== (order as { userId?: string }).userId) throw new FerryError(Code.PERMISSION_DENIED, "this order belongs to another user");
    return order;
  };
}
