import type { ConnectionOptions } from "node:tls";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { tlsOptionsFromUrl } from "../../util/tls-url-options.js";

/**
 * Options of the `redis://` adapter, from `BrokerOptions.adapterOptions` or,
 * with the same names, the broker URL's query
 * (`redis://127.0.0.1:6379?keyPrefix=shop:&maxLen=100000`). Credentials:
 * `redis://user:password@host` (an ACL user, percent-encoded) or
 * `redis://:password@host` (`requirepass`); TLS: `rediss://host:6380`, with
 * `tls_ca`, `tls_cert`, `tls_key`, `tls_servername` (see {@link RedisAdapterOptions.tls}).
 */
export interface RedisAdapterOptions {
  /** Prefix of every stream key: topic `a.b` is stored in stream `<keyPrefix>a.b`. Default `"ferry:"`. */
  readonly keyPrefix: string;
  /**
   * Approximate cap on a stream's length (`XADD … MAXLEN ~ n`): older entries
   * are trimmed, even if a group has not read them yet. Default `undefined`
   * (no trimming: streams grow until trimmed by other means).
   */
  readonly maxLen: number | undefined;
  /** Longest a consumer's `XREADGROUP … BLOCK` waits, in ms. Default 2000. */
  readonly blockMs: number;
  /**
   * How often a consumer looks for pending messages idle longer than the
   * subscription's `ackTimeoutMs` (`XAUTOCLAIM`), in ms. Default: a quarter
   * of `ackTimeoutMs`, between 50 and 5000.
   */
  readonly claimIntervalMs: number | undefined;
  /**
   * Largest message (payload plus headers) accepted by `publish`, in bytes.
   * Default 64 MiB: Redis itself accepts up to 512 MB (`proto-max-bulk-len`),
   * but an entry lives in Redis's memory and passes through every reader's
   * output buffer, so the default stays well below that; raise it if needed.
   */
  readonly maxMessageBytes: number;
  /**
   * Longest wait for a reply to `XADD`, `XACK` and the other short commands,
   * in ms (ioredis `commandTimeout`). Default 10000. After it, `publish`
   * rejects with UNAVAILABLE (the entry may still have been added).
   */
  readonly commandTimeoutMs: number;
  /**
   * TLS client options for `rediss://` (ioredis passes them to `tls.connect`):
   * from the URL's `tls_ca`, `tls_cert`, `tls_key` (PEM files) and
   * `tls_servername`, with `adapterOptions.tls` (node:tls options) merged
   * over them; `{}` (the system CAs) for a bare `rediss://`. Undefined for
   * `redis://`, where TLS options raise INVALID_ARGUMENT. See `tlsOptionsFromUrl`.
   */
  readonly tls: ConnectionOptions | undefined;
}

const ownKeys = ["keyPrefix", "maxLen", "blockMs", "claimIntervalMs", "maxMessageBytes", "commandTimeoutMs"] as const;

/** Reads and checks the adapter's options; raises INVALID_ARGUMENT naming the bad one. Returns the URL for ioredis without them. */
export function parseRedisOptions(url: URL, adapterOptions: Readonly<Record<string, unknown>>): { options: RedisAdapterOptions; connectUrl: string } {
  const raw: Record<string, unknown> = {};
  const connect = new URL(url.href);
  for (const key of ownKeys) {
    const fromQuery = connect.searchParams.get(key);
    if (fromQuery !== null) raw[key] = fromQuery;
    connect.searchParams.delete(key);
    if (adapterOptions[key] !== undefined) raw[key] = adapterOptions[key];
  }
  const tls = tlsOptionsFromUrl(connect, adapterOptions.tls, connect.protocol === "rediss:", "redis adapter");
  const keyPrefix = String(raw.keyPrefix ?? "ferry:");
  if (keyPrefix.length > 200 || /[\s]/.test(keyPrefix)) throw invalid(`keyPrefix "${keyPrefix}" is invalid: at most 200 characters, no whitespace`);
  return {
    options: {
      keyPrefix,
      maxLen: raw.maxLen === undefined ? undefined : int("maxLen", raw.maxLen, 1),
      blockMs: raw.blockMs === undefined ? 2000 : int("blockMs", raw.blockMs, 10),
      claimIntervalMs: raw.claimIntervalMs === undefined ? undefined : int("claimIntervalMs", raw.claimIntervalMs, 10),
      maxMessageBytes: raw.maxMessageBytes === undefined ? 64 * 1024 * 1024 : int("maxMessageBytes", raw.maxMessageBytes, 1),
      commandTimeoutMs: raw.commandTimeoutMs === undefined ? 10_000 : int("commandTimeoutMs", raw.commandTimeoutMs, 1),
      tls,
    },
    connectUrl: connect.href,
  };
}

function int(name: string, value: unknown, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw invalid(`${name} must be an integer ≥ ${min}, got ${String(value)}`);
  return n;
}

function invalid(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `redis adapter: ${message}`);
}
