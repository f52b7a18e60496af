import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionOptions, TlsOptions } from "node:tls";
import type { DescService } from "@bufbuild/protobuf";
import { checkServerSpiffeId, createAuthInterceptor, type AuthorizationPolicy } from "../../../src/auth/index.js";
import type { Interceptor } from "../../../src/index.js";
import { createThrowawayCa } from "../../../src/transport/grpc/index.js";
import type { ShopRole } from "./start-shop-service.js";

/** The SPIFFE trust domain of the separate-process shop. */
export const SHOP_TRUST_DOMAIN = "shop.local";

/** The SPIFFE ID of a shop role's certificate: `spiffe://shop.local/<role>` (SPIFFE-ID §2). */
export function spiffeIdOf(role: ShopRole): string {
  return `spiffe://${SHOP_TRUST_DOMAIN}/${role}`;
}

const id = spiffeIdOf;
const method = (service: string, ...methods: string[]) => methods.map((m) => ({ service: `shop.v1.${service}`, method: m }));

/**
 * Which service may call which method in the separate-process shop: the
 * gateway calls what the HTTP API exposes, cart reserves and releases stock,
 * order reads and clears carts and charges payments. Everything else —
 * the gateway reserving stock, cart charging a payment, any caller without
 * a verified certificate — is refused (default deny; health stays public).
 */
export const clusterPolicy: AuthorizationPolicy = {
  rules: [
    { name: method("InventoryService", "ListProducts", "GetProduct"), services: [id("gateway")] },
    { name: method("InventoryService", "Reserve", "Release"), services: [id("cart")] },
    { name: method("CartService", "AddItem", "RemoveItem", "GetCart"), services: [id("gateway"), id("order")] },
    { name: method("CartService", "ClearCart"), services: [id("order")] },
    { name: [{ service: "shop.v1.PaymentService" }], services: [id("order")] },
    { name: [{ service: "shop.v1.OrderService" }], services: [id("gateway")] },
  ],
};

/** The PEM credentials of one shop process: the cluster CA, its certificate and key. */
export interface ClusterTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Files of {@link ClusterTls} (what `--tls-ca`, `--tls-cert`, `--tls-key` name). */
export interface ClusterTlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Reads a process's credentials from PEM files. Throws the file system's error (ENOENT naming the path). */
export function readClusterTls(files: ClusterTlsFiles): ClusterTls {
  return { ca: readFileSync(files.ca, "utf8"), cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") };
}

/**
 * Server TLS of a shop service: its certificate, and client certificates
 * requested and checked against the cluster CA. A client without one still
 * completes the handshake (`rejectUnauthorized: false`), so that the auth
 * interceptor answers it with a clear UNAUTHENTICATED instead of a reset
 * connection; an unverified certificate never names a principal.
 */
export function clusterServerTls(tls: ClusterTls): TlsOptions {
  return { ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.3" };
}

/** The server interceptor of a shop service with mTLS: service identities from certificates, {@link clusterPolicy}. */
export function clusterAuthInterceptor(): Interceptor {
  return createAuthInterceptor({ mtls: true, policy: clusterPolicy });
}

const roleOf: Record<string, ShopRole> = {
  "shop.v1.InventoryService": "inventory",
  "shop.v1.PaymentService": "payment",
  "shop.v1.CartService": "cart",
  "shop.v1.OrderService": "order",
};

/**
 * Client TLS of a channel to `service`: this process's certificate (mTLS),
 * the cluster CA, and the server must present the SPIFFE ID of the role that
 * serves `service` (an instance registered under another service's name is
 * refused during the handshake).
 */
export function clusterClientTls(tls: ClusterTls, service: DescService): ConnectionOptions {
  const role = roleOf[service.typeName];
  if (role === undefined) throw new Error(`no shop role serves ${service.typeName}`);
  return { ca: tls.ca, cert: tls.cert, key: tls.key, minVersion: "TLSv1.3", checkServerIdentity: checkServerSpiffeId([spiffeIdOf(role)]) };
}

/** A directory of cluster credentials made by {@link issueClusterCertificates}. */
export interface ClusterCertificates {
  readonly dir: string;
  /** The files of `role`'s credentials. */
  files(role: ShopRole): ClusterTlsFiles;
  /** `--tls-ca F --tls-cert F --tls-key F` for `role`'s process. */
  args(role: ShopRole): string[];
  /** Deletes the directory. */
  remove(): void;
}

/**
 * Creates a throw-away CA and one certificate per role (URI SAN
 * `spiffe://shop.local/<role>`, plus 127.0.0.1 and localhost) in a new private
 * directory (mode 0700, keys 0600). For the launcher and tests: a real
 * deployment gets its certificates from its PKI (SPIRE, cert-manager, …).
 * Raises FAILED_PRECONDITION when `openssl` is missing.
 */
export function issueClusterCertificates(roles: readonly ShopRole[]): ClusterCertificates {
  const dir = mkdtempSync(join(tmpdir(), "ferry-shop-tls-"));
  chmodSync(dir, 0o700);
  const ca = createThrowawayCa({ commonName: "Ferry shop cluster CA" });
  writeFileSync(join(dir, "ca.pem"), ca.cert);
  for (const role of roles) {
    const leaf = ca.issue({ commonName: `shop-${role}`, altNames: [spiffeIdOf(role), "127.0.0.1", "localhost"] });
    writeFileSync(join(dir, `${role}.pem`), leaf.cert);
    writeFileSync(join(dir, `${role}.key`), leaf.key, { mode: 0o600 });
  }
  const files = (role: ShopRole): ClusterTlsFiles => ({ ca: join(dir, "ca.pem"), cert: join(dir, `${role}.pem`), key: join(dir, `${role}.key`) });
  return {
    dir,
    files,
    args: (role) => {
      const f = files(role);
      return ["--tls-ca", f.ca, "--tls-cert", f.cert, "--tls-key", f.key];
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
