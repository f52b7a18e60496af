import type { Command } from "commander";
import type { CallOptions } from "../rpc/call-options.js";
import type { ClientTransport } from "../rpc/client-transport.js";
import { CliUsageError } from "./cli-error.js";
import { openTransport, type TlsFlags } from "./cli-transport.js";
import type { DescriptorSource } from "./descriptor-source.js";
import { parseDurationMs } from "./duration.js";
import { collect, parseHeaderFlags } from "./header-flags.js";
import { loadProtoSource } from "./proto-source.js";
import { ReflectionClient } from "./reflection-client.js";

/** The connection flags shared by `list`, `describe`, `call`, `health` and `bench`, as commander parses them. */
export interface ConnectionFlags extends TlsFlags {
  /** `-H 'key: value'`, repeatable. */
  header?: string[];
  /** `--proto FILE`, repeatable: use these files instead of server reflection. */
  proto?: string[];
  /** `--import-path DIR`, repeatable. */
  importPath?: string[];
  /** `--timeout DURATION` as typed. */
  timeout?: string;
}

/**
 * Adds the connection flags to `command`: TLS (`--cacert`, `--cert`, `--key`,
 * `--insecure`, `--servername`, `--plaintext`), `-H`, `--timeout`, and with
 * `descriptors` also `--proto` and `--import-path`.
 *
 * @param timeoutHelp - what `--timeout` limits, for its help text.
 */
export function addConnectionOptions(command: Command, timeoutHelp: string, descriptors = true): Command {
  command
    .option("-H, --header <key: value>", "request metadata; repeatable (a key ending in -bin takes base64)", collect)
    .option("--timeout <duration>", `${timeoutHelp} (e.g. 250ms, 5s, 1m)`)
    .option("--cacert <file>", "PEM CA certificate(s) to verify the server with (implies TLS)")
    .option("--cert <file>", "PEM client certificate for mTLS (with --key; implies TLS)")
    .option("--key <file>", "PEM private key of --cert")
    .option("--insecure", "TLS without verifying the server certificate (testing only)")
    .option("--servername <name>", "host name to verify the server certificate against (implies TLS)")
    .option("--plaintext", "cleartext HTTP/2 (the default for host:port; accepted for grpcurl users)");
  if (descriptors) {
    command
      .option("--proto <file>", "use this .proto file instead of server reflection; repeatable", collect)
      .option("--import-path <dir>", "directory imports in --proto files are resolved against; repeatable", collect);
  }
  return command;
}

/** A connection to one target, with the descriptors of its services. */
export interface CliSession {
  readonly transport: ClientTransport;
  /** Reflection, or the `--proto` files when given. */
  readonly source: DescriptorSource;
  /** `metadata` from `-H` and `timeoutMs` from `--timeout` (or the default). */
  readonly callOptions: CallOptions;
  /** Closes the transport. */
  close(): Promise<void>;
}

/**
 * Opens `target` with the flags. Nothing is sent until the first call.
 *
 * @param defaultTimeoutMs - used when `--timeout` is absent; `undefined` for none.
 * @throws CliUsageError (exit status 2) for a bad target, header, duration or TLS flag, and for `--proto` files that do not compile.
 */
export async function openSession(target: string, flags: ConnectionFlags, defaultTimeoutMs?: number): Promise<CliSession> {
  const timeoutMs = flags.timeout === undefined ? defaultTimeoutMs : parseDurationMs(flags.timeout, "--timeout");
  const metadata = parseHeaderFlags(flags.header ?? []);
  if ((flags.importPath ?? []).length > 0 && (flags.proto ?? []).length === 0) {
    throw new CliUsageError("--import-path needs --proto");
  }
  const transport = await openTransport(target, flags);
  const callOptions: CallOptions = { metadata, timeoutMs };
  try {
    const source = (flags.proto ?? []).length > 0 ? await loadProtoSource(flags.proto!, flags.importPath ?? []) : new ReflectionClient(transport, callOptions);
    return { transport, source, callOptions, close: () => transport.close() };
  } catch (err) {
    await transport.close();
    throw err;
  }
}
