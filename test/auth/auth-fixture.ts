/**
 * One server with the auth interceptor, reachable over grpc (h2c and mTLS),
 * Connect/HTTP/1.1 on the gRPC port, native (TCP and mTLS), inproc and the
 * gateway; and one way to call it from each, reporting the outcome as a
 * status code.
 */
import https from "node:https";
import { createClient, createInProcessTransport, createServer, FerryError, type ClientTransport, type Server, type ServiceImpl } from "../../src/index.js";
import { createAuthInterceptor, createJwtVerifier, principalOf, type AuthorizationPolicy, type JwtVerifier } from "../../src/auth/index.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../src/gateway/index.js";
import { createGrpcServerTransport, createGrpcTransport, createThrowawayCa } from "../../src/transport/grpc/index.js";
import { createNativeServerTransport, createNativeTransport } from "../../src/transport/native/index.js";
import { Code, codeFromString } from "../../src/rpc/code.js";
import { CartService } from "../../examples/shop/gen/shop/v1/cart_pb.js";
import { InventoryService } from "../../examples/shop/gen/shop/v1/inventory_pb.js";
import { AUDIENCE, ISSUER, publicJwk, type KeyPair } from "./token-lab.js";

export const quiet = { error() {}, warn() {}, info() {}, debug() {} };
export const ORDER_ID = "spiffe://ferry.test/order";
export const MALLORY_ID = "spiffe://ferry.test/mallory";

export const policy: AuthorizationPolicy = {
  rules: [
    { name: [{ service: "shop.v1.InventoryService", method: "ListProducts" }], public: true },
    { name: [{ service: "shop.v1.CartService", method: "GetCart" }], fieldMatches: [{ claim: "sub", field: "user_id" }], services: [ORDER_ID] },
    { name: [{ service: "shop.v1.CartService", method: "AddItem" }], scopes: ["cart:write"], fieldMatches: [{ claim: "sub", field: "user_id" }] },
    { name: [{ service: "shop.v1.CartService", method: "RemoveItem" }], claims: { roles: ["admin"] } },
  ],
};

/** Handlers that answer with who they saw, from the call context. */
const cartImpl: ServiceImpl<typeof CartService> = {
  getCart: (req, ctx) => {
    const p = principalOf(ctx);
    return { userId: req.userId, lines: [{ sku: p?.subject ?? p?.service?.id ?? "anonymous" }] };
  },
  addItem: (req) => ({ userId: req.userId, lines: [{ sku: req.sku, quantity: req.quantity }] }),
  removeItem: (req) => ({ userId: req.userId }),
  clearCart: (req) => ({ userId: req.userId }),
};
const inventoryImpl: ServiceImpl<typeof InventoryService> = {
  listProducts: () => ({ products: [{ sku: "KB-001", name: "Keyboard" }] }),
};

/** What a call came back with. */
export interface Outcome {
  readonly code: Code;
  readonly message: string;
  /** The `www-authenticate` challenge, where the channel carries one. */
  readonly challenge: string | undefined;
  readonly body: unknown;
}

export type Channel = "grpc" | "connect" | "native" | "inproc" | "gateway" | "grpc-mtls" | "native-mtls" | "connect-mtls";
export type Method = "getCart" | "addItem" | "removeItem" | "clearCart" | "listProducts";

export interface AuthFixture {
  readonly server: Server;
  readonly verifier: JwtVerifier;
  readonly gateway: Gateway;
  readonly gatewayUrl: string;
  readonly grpcUrl: string;
  /** Calls `method` over `channel` with `token` (Bearer) and, for the mTLS channels, the client certificate of `serviceId`. */
  call(channel: Channel, method: Method, request: Record<string, unknown>, token?: string, serviceId?: string): Promise<Outcome>;
  close(): Promise<void>;
}

export async function startAuthFixture(trusted: KeyPair, gatewayOptions: Partial<GatewayOptions> = {}): Promise<AuthFixture> {
  const verifier = createJwtVerifier({ jwks: { keys: [await publicJwk(trusted)] }, issuer: ISSUER, audience: AUDIENCE });
  const server = createServer({ logger: quiet, interceptors: [createAuthInterceptor({ jwt: verifier, policy })] })
    .service(CartService, cartImpl)
    .service(InventoryService, inventoryImpl);
  const ca = createThrowawayCa();
  const serverTls = { ...ca.issue(), ca: ca.cert, requestCert: true, rejectUnauthorized: true };
  const grpcUrl = (await server.listen(createGrpcServerTransport({ port: 0 }))).url;
  const grpcsUrl = (await server.listen(createGrpcServerTransport({ port: 0, tls: serverTls }))).url;
  const nativeUrl = (await server.listen(createNativeServerTransport({ port: 0 }))).url;
  const nativesUrl = (await server.listen(createNativeServerTransport({ port: 0, tls: serverTls }))).url;
  const inproc = createInProcessTransport(server);
  const gateway = createGateway({ services: [CartService, InventoryService], transport: inproc, logger: quiet, ...gatewayOptions });
  const gatewayUrl = await gateway.listen(0);

  const transports: ClientTransport[] = [inproc];
  const plain: Record<"grpc" | "native" | "inproc", ClientTransport> = {
    grpc: remember(createGrpcTransport({ baseUrl: grpcUrl })),
    native: remember(createNativeTransport({ port: Number(new URL(nativeUrl).port) })),
    inproc,
  };
  const certs = new Map<string, ReturnType<typeof ca.issue>>();
  const mtls = new Map<string, ClientTransport>();
  function remember(t: ClientTransport): ClientTransport {
    transports.push(t);
    return t;
  }
  function mtlsTransport(kind: "grpc" | "native", serviceId: string): ClientTransport {
    const key = `${kind} ${serviceId}`;
    let t = mtls.get(key);
    if (t === undefined) {
      let cert = certs.get(serviceId);
      if (cert === undefined) certs.set(serviceId, (cert = ca.issue({ commonName: "workload", altNames: [serviceId] })));
      const tls = { ca: ca.cert, ...cert, servername: "localhost" };
      t = remember(kind === "grpc" ? createGrpcTransport({ baseUrl: grpcsUrl.replace("127.0.0.1", "localhost"), tls }) : createNativeTransport({ host: "localhost", port: Number(new URL(nativesUrl).port), tls }));
      mtls.set(key, t);
    }
    return t;
  }

  async function viaClient(transport: ClientTransport, method: Method, request: Record<string, unknown>, token: string | undefined): Promise<Outcome> {
    const metadata = token === undefined ? undefined : { authorization: `Bearer ${token}` };
    try {
      const body =
        method === "listProducts"
          ? await createClient(InventoryService, transport).listProducts({}, { metadata })
          : await (createClient(CartService, transport)[method] as (r: object, o: object) => Promise<unknown>)(request, { metadata });
      return { code: Code.OK, message: "", challenge: undefined, body };
    } catch (err) {
      if (!(err instanceof FerryError)) throw err;
      return { code: err.code, message: err.rawMessage, challenge: err.metadata.getText("www-authenticate"), body: undefined };
    }
  }

  async function viaHttp(url: string, init: RequestInit): Promise<Outcome> {
    const res = await fetch(url, init);
    const text = await res.text();
    let body: { code?: string; message?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = { code: res.status === 431 ? "resource_exhausted" : "unknown", message: `HTTP ${res.status} without a JSON body` };
    }
    const code = res.status === 200 ? Code.OK : codeFromString(body.code === "canceled" ? "cancelled" : String(body.code)) ?? Code.UNKNOWN;
    return { code, message: body.message ?? "", challenge: res.headers.get("www-authenticate") ?? undefined, body };
  }

  function viaGateway(method: Method, request: Record<string, unknown>, token: string | undefined): Promise<Outcome> {
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const user = encodeURIComponent(String(request.userId ?? ""));
    switch (method) {
      case "listProducts":
        return viaHttp(`${gatewayUrl}/v1/products`, { headers });
      case "getCart":
        return viaHttp(`${gatewayUrl}/v1/carts/${user}`, { headers });
      case "addItem":
        return viaHttp(`${gatewayUrl}/v1/carts/${user}/items`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ sku: request.sku, quantity: request.quantity }) });
      case "removeItem":
        return viaHttp(`${gatewayUrl}/v1/carts/${user}/items/${encodeURIComponent(String(request.sku))}`, { method: "DELETE", headers });
      default:
        throw new Error(`${method} has no HTTP route`);
    }
  }

  /** Connect over HTTP/1.1 on the TLS gRPC port (ALPN http/1.1), with the client certificate of `serviceId`. */
  function viaConnectTls(method: Method, request: Record<string, unknown>, token: string | undefined, serviceId: string): Promise<Outcome> {
    let cert = certs.get(serviceId);
    if (cert === undefined) certs.set(serviceId, (cert = ca.issue({ commonName: "workload", altNames: [serviceId] })));
    const path = `/shop.v1.CartService/${method[0].toUpperCase()}${method.slice(1)}`;
    const headers: Record<string, string> = { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
    return new Promise((resolve, reject) => {
      const req = https.request(`https://localhost:${new URL(grpcsUrl).port}${path}`, { method: "POST", headers, ca: ca.cert, cert: cert.cert, key: cert.key, ALPNProtocols: ["http/1.1"], agent: false } as https.RequestOptions, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          const body = JSON.parse(text) as { code?: string; message?: string };
          const code = res.statusCode === 200 ? Code.OK : (codeFromString(String(body.code)) ?? Code.UNKNOWN);
          resolve({ code, message: body.message ?? "", challenge: res.headers["www-authenticate"], body });
        });
      });
      req.on("error", reject);
      req.end(JSON.stringify(request));
    });
  }

  function viaConnect(method: Method, request: Record<string, unknown>, token: string | undefined): Promise<Outcome> {
    const path = method === "listProducts" ? "/shop.v1.InventoryService/ListProducts" : `/shop.v1.CartService/${method[0].toUpperCase()}${method.slice(1)}`;
    const headers: Record<string, string> = { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
    return viaHttp(`${grpcUrl.replace("grpc://", "http://")}${path}`, { method: "POST", headers, body: JSON.stringify(request) });
  }

  return {
    server,
    verifier,
    gateway,
    gatewayUrl,
    grpcUrl,
    call(channel, method, request, token, serviceId) {
      switch (channel) {
        case "gateway":
          return viaGateway(method, request, token);
        case "connect":
          return viaConnect(method, request, token);
        case "connect-mtls":
          return viaConnectTls(method, request, token, serviceId ?? ORDER_ID);
        case "grpc-mtls":
          return viaClient(mtlsTransport("grpc", serviceId ?? ORDER_ID), method, request, token);
        case "native-mtls":
          return viaClient(mtlsTransport("native", serviceId ?? ORDER_ID), method, request, token);
        default:
          return viaClient(plain[channel], method, request, token);
      }
    },
    async close() {
      await Promise.all(transports.map((t) => t.close()));
      await gateway.close();
      await server.shutdown(100);
    },
  };
}
