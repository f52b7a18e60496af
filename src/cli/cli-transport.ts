import { readFileSync } from "node:fs";
import type { SecureClientSessionOptions } from "node:http2";
import type { ClientTransport } from "../rpc/client-transport.js";
import { clientTransportFromUrl } from "../rpc/transport-registry.js";
import { createGrpcTransport } from "../transport/grpc/grpc-client-transport.js";
import { DEFAULT_NATIVE_PORT } from "../transport/native/native-server-transport.js";
import { createNativeTransport } from "../transport/native/native-client-transport.js";
import { CliUsageError } from "./cli-error.js";
// Target schemes the CLI accepts besides grpc/native: channels (registry:, static:, dns:) over grpc and native subchannels.
import "../channel/index.js";
import "../transport/grpc/index.js";
import "../transport/native/index.js";
import { parseTarget } from "./target.js";

/** The TLS flags every command that talks to a server accepts. */
export interface TlsFlags {
  /** `--cacert FILE`: PEM file of the CA(s) the server's certificate must chain to. Default: the system CAs. */
  cacert?: string;
  /** `--cert FILE`: PEM client certificate for mTLS (needs `key`). */
  cert?: string;
  /** `--key FILE`: PEM private key of `cert`. */
  key?: string;
  /** `--insecure`: TLS without verifying the server's certificate (testing only). */
  insecure?: boolean;
  /** `--plaintext`: cleartext (h2c), grpcurl's flag; the default for `host:port`. Contradicts the TLS flags. */
  plaintext?: boolean;
  /** `--servername NAME`: the name to check the server's certificate against (and send as SNI). */
  servername?: string;
}

/** Whether any flag asks for TLS. */
function wantsTls(flags: TlsFlags): boolean {
  return flags.cacert !== undefined || flags.cert !== undefined || flags.key !== undefined || flags.insecure === true || flags.servername !== undefined;
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new CliUsageError(`${flag}: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * The `node:tls` options the flags ask for (`ca`, `cert`, `key`,
 * `rejectUnauthorized`, `servername`).
 *
 * @throws CliUsageError (exit status 2) for an unreadable file, `--cert` without `--key` (or the reverse), or `--plaintext` with a TLS flag.
 */
export function tlsOptions(flags: TlsFlags): SecureClientSessionOptions {
  if (flags.plaintext === true && wantsTls(flags)) throw new CliUsageError("--plaintext contradicts --cacert, --cert, --key, --insecure and --servername");
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new CliUsageError("--cert and --key go together (mTLS needs both)");
  const options: SecureClientSessionOptions = {};
  if (flags.cacert !== undefined) options.ca = readPem(flags.cacert, "--cacert");
  if (flags.cert !== undefined) options.cert = readPem(flags.cert, "--cert");
  if (flags.key !== undefined) options.key = readPem(flags.key, "--key");
  if (flags.insecure === true) options.rejectUnauthorized = false;
  if (flags.servername !== undefined) options.servername = flags.servername;
  return options;
}

/**
 * Resolves what the user typed as a target, with the TLS flags, to the URL
 * the command will call: `host:port` and `grpc://` become `grpcs://` when a
 * TLS flag is given, `native://` becomes `natives://`.
 *
 * @throws CliUsageError (exit status 2) for a bad target or contradictory flags.
 */
export function resolveTargetUrl(text: string, flags: TlsFlags): URL {
  const url = new URL(parseTarget(text));
  if (url.protocol === "inproc:") throw new CliUsageError(`bad target "${text}": inproc:// servers live inside one process; call them over grpc:// or native://`);
  if (flags.plaintext === true && (url.protocol === "grpcs:" || url.protocol === "natives:")) {
    throw new CliUsageError(`--plaintext contradicts the TLS target "${text}"`);
  }
  if (!wantsTls(flags)) return url;
  if (url.protocol === "grpc:") return new URL(`grpcs://${url.host}`);
  if (url.protocol === "native:") return new URL(`natives://${url.host}`);
  if (url.protocol !== "grpcs:" && url.protocol !== "natives:") {
    throw new CliUsageError(`TLS flags apply to grpc and native targets, not "${url.protocol}//"`);
  }
  return url;
}

/**
 * Opens the client transport for `target` (as typed: `host:port` or a Ferry
 * URL) with the TLS flags. `grpc`/`grpcs` and `native`/`natives` targets get
 * the TLS options; other schemes (`registry:///…`, `dns:///…`) use Ferry's
 * defaults. The caller closes the transport.
 *
 * @throws CliUsageError (exit status 2) for a bad target or bad TLS flags.
 */
export async function openTransport(target: string, flags: TlsFlags): Promise<ClientTransport> {
  const url = resolveTargetUrl(target, flags);
  const tls = tlsOptions(flags);
  const secure = url.protocol === "grpcs:" || url.protocol === "natives:";
  if (url.protocol === "grpc:" || url.protocol === "grpcs:") {
    return createGrpcTransport({ baseUrl: url.href, tls: secure ? tls : undefined });
  }
  if (url.protocol === "native:" || url.protocol === "natives:") {
    const host = url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
    const port = url.port === "" ? DEFAULT_NATIVE_PORT : Number(url.port);
    return createNativeTransport({ host, port, tls: secure ? tls : undefined });
  }
  return clientTransportFromUrl(url.href);
}
