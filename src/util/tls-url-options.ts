import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** The URL query parameters {@link tlsOptionsFromUrl} reads: PEM file paths and the server name. */
export const TLS_URL_PARAMS = ["tls_ca", "tls_cert", "tls_key", "tls_servername"] as const;

/**
 * The TLS client options of a broker or registry connection, from its URL
 * and options, for the adapters whose client takes `node:tls` options
 * (ioredis, amqplib, etcd3):
 *
 * | query parameter | meaning |
 * |---|---|
 * | `tls_ca=/path/ca.pem` | trust this CA (PEM) instead of the system CAs |
 * | `tls_cert=/path/cert.pem&tls_key=/path/key.pem` | a client certificate (mTLS) |
 * | `tls_servername=name` | the name the server's certificate must carry (SNI); default the URL's host |
 *
 * `tls` (an object of `node:tls` ConnectionOptions, e.g. PEM strings in
 * `ca`/`cert`/`key`) is merged over them. The parameters are removed from
 * `url`. Returns undefined when `secure` is false and no TLS option is given.
 *
 * @throws FerryError INVALID_ARGUMENT (prefixed with `what`) for an unknown
 * `tls_*` parameter, `tls_cert` without `tls_key`, TLS options on a cleartext
 * scheme (`secure` false: use the scheme's TLS form, `rediss://`, `amqps://`),
 * or an unreadable file — naming the parameter, never the file's content.
 */
export function tlsOptionsFromUrl(url: URL, tls: unknown, secure: boolean, what: string): ConnectionOptions | undefined {
  const q = url.searchParams;
  for (const key of [...q.keys()]) {
    if (key.startsWith("tls") && !(TLS_URL_PARAMS as readonly string[]).includes(key)) throw invalid(what, `unknown parameter "${key}" (known: ${TLS_URL_PARAMS.join(", ")})`);
  }
  const options: ConnectionOptions = {};
  const ca = q.get("tls_ca");
  const cert = q.get("tls_cert");
  const key = q.get("tls_key");
  const servername = q.get("tls_servername");
  for (const p of TLS_URL_PARAMS) q.delete(p);
  if ((cert === null) !== (key === null)) throw invalid(what, "tls_cert and tls_key go together");
  if (ca !== null) options.ca = readPem(ca, "tls_ca", what);
  if (cert !== null && key !== null) Object.assign(options, { cert: readPem(cert, "tls_cert", what), key: readPem(key, "tls_key", what) });
  if (servername !== null) options.servername = servername;
  if (tls !== undefined && (typeof tls !== "object" || tls === null || Array.isArray(tls))) throw invalid(what, "tls must be an object of node:tls options (ca, cert, key, servername, …)");
  Object.assign(options, tls);
  const given = Object.keys(options).length > 0;
  if (!secure && given) throw invalid(what, `TLS options need the TLS scheme (${url.protocol.replace(/:$/, "s:")}//)`);
  return secure ? options : undefined;
}

function readPem(path: string, param: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new FerryError(Code.INVALID_ARGUMENT, `${what}: cannot read ${param}: ${(err as NodeJS.ErrnoException).code ?? "error"}`, { cause: err });
  }
}

function invalid(what: string, message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `${what}: ${message}`);
}
