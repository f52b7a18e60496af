/**
 * Throw-away TLS material on disk for specs that start a server process
 * (Redis, RabbitMQ, etcd, NATS): a CA, a server certificate for 127.0.0.1 and
 * localhost, a client certificate, and a client certificate from another CA.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createThrowawayCa } from "../../src/transport/grpc/index.js";

/** Paths of the PEM files {@link writeTlsFiles} made. */
export interface TlsFiles {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly cert: string;
  readonly key: string;
  /** A client certificate and key issued by another CA. */
  readonly foreignCert: string;
  readonly foreignKey: string;
  /** `?tls_ca=…&tls_cert=…&tls_key=…` (plus `extra`) for a broker URL. */
  query(extra?: Record<string, string>, withClientCert?: boolean): string;
  remove(): void;
}

/** Writes a CA, server and client certificates to a new temporary directory (keys mode 0600). Needs `openssl`. */
export function writeTlsFiles(clientName = "ferry-client"): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), "ferry-tls-"));
  const ca = createThrowawayCa();
  const server = ca.issue({ commonName: "localhost", altNames: ["127.0.0.1", "localhost"] });
  const client = ca.issue({ commonName: clientName, altNames: [clientName] });
  const foreign = createThrowawayCa({ commonName: "another CA" }).issue({ commonName: clientName, altNames: [clientName] });
  const file = (name: string, content: string, secret = false) => {
    writeFileSync(join(dir, name), content, secret ? { mode: 0o600 } : {});
    return join(dir, name);
  };
  const files = {
    dir,
    ca: file("ca.pem", ca.cert),
    serverCert: file("server.pem", server.cert),
    serverKey: file("server.key", server.key, true),
    cert: file("client.pem", client.cert),
    key: file("client.key", client.key, true),
    foreignCert: file("foreign.pem", foreign.cert),
    foreignKey: file("foreign.key", foreign.key, true),
  };
  return {
    ...files,
    query: (extra = {}, withClientCert = true) =>
      new URLSearchParams({ tls_ca: files.ca, ...(withClientCert ? { tls_cert: files.cert, tls_key: files.key } : {}), ...extra }).toString(),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
