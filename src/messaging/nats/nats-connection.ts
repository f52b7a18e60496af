import { readFileSync } from "node:fs";
import type { ConnectionOptions, NatsConnection } from "@nats-io/transport-node";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { clusterMembers } from "../../util/cluster-members.js";
import { importPeer } from "../adapter-registry.js";

/**
 * Connects to the NATS server of a URL (reconnecting forever, every 250 ms,
 * after a loss); raises UNAVAILABLE when it does not answer. Used by the
 * messaging adapter and the RPC transport.
 *
 * A cluster is one URL with its other seed servers in `?servers=`
 * (`nats://a:4222?servers=b:4222,c:4222`): the client connects to one of
 * them, learns the rest of the cluster from the server's INFO (NATS's
 * cluster discovery), and after a loss reconnects to any live member.
 *
 * Credentials and TLS come from the URL (see {@link natsConnectOptions}):
 * `nats://user:pass@host`, `nats://TOKEN@host`, `?creds=FILE`,
 * `?nkey=FILE`, `?tls=true`, `?tls_ca=FILE&tls_cert=FILE&tls_key=FILE`.
 * Error messages name only `host:port`, never a credential.
 */
export async function connectNats(url: URL, name: string): Promise<NatsConnection> {
  const nats = await importPeer("@nats-io/transport-node", () => import("@nats-io/transport-node"));
  const options = natsConnectOptions(url, name, nats);
  try {
    return await nats.connect(options);
  } catch (err) {
    const reason = /authoriz|authenticat/i.test((err as Error)?.message ?? "") ? "authentication failed" : (err as Error).message;
    throw new FerryError(Code.UNAVAILABLE, `cannot connect to NATS at ${[options.servers].flat().join(", ")}: ${reason}`, { cause: err });
  }
}

/** The authenticator factories {@link natsConnectOptions} needs from `@nats-io/transport-node`. */
export interface NatsAuthenticators {
  credsAuthenticator(creds: Uint8Array): NonNullable<ConnectionOptions["authenticator"]>;
  nkeyAuthenticator(seed: Uint8Array): NonNullable<ConnectionOptions["authenticator"]>;
}

const QUERY_KEYS = new Set(["tls", "tls_ca", "tls_cert", "tls_key", "tls_first", "creds", "nkey", "connect_timeout_ms", "servers"]);

/**
 * The `connect` options of a NATS URL:
 *
 * | URL | meaning |
 * |---|---|
 * | `?servers=host2:4222,host3:4222` | further seed servers of the same cluster (credentials and TLS apply to all); the client reconnects to any of them |
 * | `nats://user:pass@host:4222` | user and password (percent-decoded) |
 * | `nats://TOKEN@host:4222` | a token (a user name without a password, as the NATS tools read it) |
 * | `?creds=/path/user.creds` | a NATS credentials file (user JWT and NKey seed; decentralized auth) |
 * | `?nkey=/path/user.nk` | a file holding an NKey seed (`SU…`) |
 * | `?tls=true` | TLS, checking the server against the system CAs |
 * | `?tls_ca=/path/ca.pem` | TLS, trusting this CA |
 * | `?tls_cert=/path/cert.pem&tls_key=/path/key.pem` | a client certificate (mTLS) |
 * | `?tls_first=true` | TLS before the NATS INFO (servers with `handshake_first`) |
 * | `?connect_timeout_ms=N` | time the first connection may take, in ms (default 20 000, NATS's); a server that refuses a TLS client certificate after the handshake shows up as this timeout |
 *
 * @throws FerryError INVALID_ARGUMENT for an unknown `tls_*` parameter, a `servers` entry that is not `host[:port]`, `tls_cert` without `tls_key`, or an unreadable creds/nkey file (naming the parameter, not the file's content).
 */
export function natsConnectOptions(url: URL, name: string, auth: NatsAuthenticators): ConnectionOptions {
  const q = url.searchParams;
  for (const key of q.keys()) {
    if ((key.startsWith("tls") || key.startsWith("connect") || key === "creds" || key === "nkey") && !QUERY_KEYS.has(key)) throw invalid(`unknown parameter "${key}" (known: ${[...QUERY_KEYS].join(", ")})`);
  }
  const options: ConnectionOptions = {
    servers: clusterMembers(url, "servers", 4222, "NATS URL"),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  };
  const timeout = q.get("connect_timeout_ms");
  if (timeout !== null) {
    const ms = Number(timeout);
    if (!Number.isInteger(ms) || ms < 1) throw invalid(`connect_timeout_ms must be an integer >= 1, got "${timeout.slice(0, 16)}"`);
    options.timeout = ms;
  }
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  const pass = url.password ? decodeURIComponent(url.password) : undefined;
  if (user !== undefined && pass !== undefined) Object.assign(options, { user, pass });
  else if (user !== undefined) options.token = user;
  const creds = q.get("creds");
  const nkey = q.get("nkey");
  if (creds !== null && nkey !== null) throw invalid("give creds or nkey, not both");
  if (creds !== null) options.authenticator = auth.credsAuthenticator(readSecret(creds, "creds"));
  if (nkey !== null) options.authenticator = auth.nkeyAuthenticator(new TextEncoder().encode(new TextDecoder().decode(readSecret(nkey, "nkey")).trim()));
  const ca = q.get("tls_ca") ?? undefined;
  const cert = q.get("tls_cert") ?? undefined;
  const key = q.get("tls_key") ?? undefined;
  if ((cert === undefined) !== (key === undefined)) throw invalid("tls_cert and tls_key go together");
  const wantTls = q.get("tls") === "true" || ca !== undefined || cert !== undefined || q.get("tls_first") === "true";
  if (wantTls) {
    options.tls = {};
    if (ca !== undefined) options.tls.caFile = ca;
    if (cert !== undefined) Object.assign(options.tls, { certFile: cert, keyFile: key });
    if (q.get("tls_first") === "true") options.tls.handshakeFirst = true;
  }
  return options;
}

function readSecret(path: string, param: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw invalid(`cannot read the ${param} file: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
}

function invalid(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `NATS URL: ${message}`);
}
