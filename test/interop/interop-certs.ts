/**
 * Certificates for the interop programs' TLS mode: a throw-away CA and a
 * server certificate for `foo.test.google.fr` (the name gRPC interop
 * clients pass as --server_host_override), `localhost` and 127.0.0.1.
 * Created once per machine in `$FERRY_INTEROP_CERT_DIR` (default
 * `<tmpdir>/ferry-interop-certs`) and shared by the server and client
 * programs; re-created when expired.
 */
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createThrowawayCa } from "../../src/transport/grpc/index.js";

/** The CA certificate and the server's certificate and key, PEM. */
export interface InteropCerts {
  ca: string;
  cert: string;
  key: string;
}

/** The name interop clients verify the server certificate against (gRPC's `--server_host_override` convention). */
export const INTEROP_SERVER_NAME = "foo.test.google.fr";

/** Loads the interop certificates, creating them first if missing or expired. */
export function interopCerts(): InteropCerts {
  const dir = process.env.FERRY_INTEROP_CERT_DIR ?? join(tmpdir(), "ferry-interop-certs");
  const existing = load(dir);
  if (existing !== undefined) return existing;
  const ca = createThrowawayCa({ commonName: "Ferry interop test CA", days: 30 });
  const leaf = ca.issue({ commonName: INTEROP_SERVER_NAME, altNames: [INTEROP_SERVER_NAME, "*.test.google.fr", "localhost", "127.0.0.1", "::1"] });
  mkdirSync(join(dir, ".."), { recursive: true });
  const staging = mkdtempSync(`${dir}-new-`);
  writeFileSync(join(staging, "ca.pem"), ca.cert);
  writeFileSync(join(staging, "server.pem"), leaf.cert);
  writeFileSync(join(staging, "server.key"), leaf.key, { mode: 0o600 });
  rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(staging, dir);
  } catch {
    // another process won the race; use its files
    rmSync(staging, { recursive: true, force: true });
  }
  return load(dir) ?? { ca: ca.cert, cert: leaf.cert, key: leaf.key };
}

function load(dir: string): InteropCerts | undefined {
  const files = ["ca.pem", "server.pem", "server.key"].map((f) => join(dir, f));
  if (!files.every((f) => existsSync(f))) return undefined;
  const [ca, cert, key] = files.map((f) => readFileSync(f, "utf8"));
  const expires = Date.parse(new X509Certificate(cert).validTo);
  return expires - Date.now() > 24 * 3600 * 1000 ? { ca, cert, key } : undefined;
}
