import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";

/** A PEM certificate and its PEM private key. */
export interface PemKeyPair {
  /** The certificate, PEM. */
  readonly cert: string;
  /** The unencrypted private key (EC P-256), PEM. */
  readonly key: string;
}

/** What a certificate issued by a {@link ThrowawayCa} is for. */
export interface IssueOptions {
  /** Subject common name. Default `"localhost"`. */
  commonName?: string;
  /** DNS names, IP addresses and URIs (`spiffe://trust.domain/workload`, anything with `scheme://`) for subjectAltName. Default `["localhost", "127.0.0.1", "::1"]`. */
  altNames?: string[];
  /** Validity in days. Default the CA's. */
  days?: number;
}

/** A certificate authority made for one test run or example; see {@link createThrowawayCa}. */
export interface ThrowawayCa extends PemKeyPair {
  /**
   * Issues a leaf certificate signed by this CA, usable both as a server
   * certificate (serverAuth) and a client certificate for mTLS (clientAuth).
   */
  issue(options?: IssueOptions): PemKeyPair;
}

/** Options of {@link createThrowawayCa}. */
export interface ThrowawayCaOptions {
  /** CA subject common name. Default `"Ferry throw-away CA"`. */
  commonName?: string;
  /** Validity of the CA and, by default, of what it issues, in days. Default 2. */
  days?: number;
}

/**
 * Creates a throw-away certificate authority (EC P-256 keys, SHA-256) for
 * tests and examples of TLS and mTLS. Never use it in production: its key
 * lives in memory and in a temporary directory deleted right after use.
 *
 * Uses the `openssl` command-line tool (OpenSSL 1.1.1 or later), because
 * `node:crypto` cannot issue X.509 certificates. Raises FAILED_PRECONDITION
 * when `openssl` is not installed or fails.
 */
export function createThrowawayCa(options: ThrowawayCaOptions = {}): ThrowawayCa {
  const days = options.days ?? 2;
  const ca = withTempDir((dir) => {
    openssl(dir, ["req", "-x509", ...newKey, "-keyout", "ca.key", "-out", "ca.pem", "-days", String(days), "-sha256",
      "-subj", `/CN=${options.commonName ?? "Ferry throw-away CA"}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    return { cert: read(dir, "ca.pem"), key: read(dir, "ca.key") };
  });
  return { ...ca, issue: (o = {}) => issue(ca, { days, ...o }) };
}

const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

function issue(ca: PemKeyPair, options: IssueOptions): PemKeyPair {
  const altNames = options.altNames ?? ["localhost", "127.0.0.1", "::1"];
  const san = altNames.map((n) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(n) ? `URI:${n}` : /^[0-9.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  return withTempDir((dir) => {
    writeFileSync(join(dir, "ca.pem"), ca.cert);
    writeFileSync(join(dir, "ca.key"), ca.key, { mode: 0o600 });
    writeFileSync(join(dir, "ext.cnf"), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n`);
    openssl(dir, ["req", ...newKey, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", `/CN=${options.commonName ?? "localhost"}`]);
    openssl(dir, ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem",
      "-days", String(options.days ?? 2), "-sha256", "-extfile", "ext.cnf"]);
    return { cert: read(dir, "leaf.pem"), key: read(dir, "leaf.key") };
  });
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "ferry-ca-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function read(dir: string, name: string): string {
  return readFileSync(join(dir, name), "utf8");
}

function openssl(cwd: string, args: string[]): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = e.code === "ENOENT" ? "the openssl command is not installed" : (e.stderr?.toString().trim() || e.message);
    throw new FerryError(Code.FAILED_PRECONDITION, `cannot create test certificates: ${why}`, { cause: err });
  }
}
