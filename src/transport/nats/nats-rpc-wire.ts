import type { MsgHdrs } from "@nats-io/transport-node";
import { Code, codeFromNumber } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { isBinaryKey, Metadata } from "../../rpc/metadata.js";

/**
 * Ferry's unary calls over NATS request/reply (core NATS, not JetStream):
 *
 * - the request goes to subject `<prefix>.<package.Service>.<Method>`
 *   (prefix `ferry.rpc` by default) with the protobuf-encoded input as data;
 *   request metadata travels as NATS headers (`-bin` values base64), the
 *   remaining deadline as `ferry-timeout-ms`;
 * - servers subscribe in a queue group per service, so NATS spreads calls
 *   over every instance (NATS docs, "Queue Groups");
 * - the reply carries `ferry-status` (the status code number; 0 = OK),
 *   `ferry-message` on errors, response headers as `ferry-h-<key>` and
 *   trailers as `ferry-t-<key>`, and the encoded output as data.
 */
export const natsRpcHeader = Object.freeze({
  timeoutMs: "ferry-timeout-ms",
  status: "ferry-status",
  message: "ferry-message",
  headerPrefix: "ferry-h-",
  trailerPrefix: "ferry-t-",
});

/** Options shared by the NATS client and server transports. */
export interface NatsRpcOptions {
  /** Subject prefix; defaults to the URL's `?prefix=` or `ferry.rpc`. */
  prefix?: string;
  /** Connection name shown by the server. */
  connectionName?: string;
}

/** Default subject prefix of RPC subjects. */
export const defaultRpcPrefix = "ferry.rpc";

/** The subject of a method: `ferry.rpc.shop.v1.CartService.AddItem`. */
export function rpcSubject(prefix: string, serviceTypeName: string, methodName: string): string {
  return `${prefix}.${serviceTypeName}.${methodName}`;
}

/** Writes `metadata` into `h`, each key prefixed by `prefix`. */
export function writeMetadata(h: MsgHdrs, metadata: Metadata, prefix = ""): void {
  for (const [k, v] of metadata) {
    if (k.startsWith("ferry-")) continue;
    h.append(prefix + k, typeof v === "string" ? v : Buffer.from(v).toString("base64"));
  }
}

/** Reads the entries of `h` whose keys start with `prefix` (all non-Ferry entries for `""`) into Metadata. */
export function readMetadata(h: MsgHdrs | undefined, prefix = ""): Metadata {
  const md = new Metadata();
  if (h === undefined) return md;
  for (const key of h.keys()) {
    const lower = key.toLowerCase();
    if (prefix === "" ? lower.startsWith("ferry-") || lower.startsWith("nats-") : !lower.startsWith(prefix)) continue;
    const k = lower.slice(prefix.length);
    for (const v of h.values(key)) md.appendTrusted(k, isBinaryKey(k) ? new Uint8Array(Buffer.from(v, "base64")) : v);
  }
  return md;
}

/** The error a reply carries, or `undefined` for OK. */
export function replyError(h: MsgHdrs | undefined): FerryError | undefined {
  const status = h?.get(natsRpcHeader.status);
  if (status === undefined || status === "") return new FerryError(Code.INTERNAL, "NATS reply without ferry-status");
  const code = codeFromNumber(Number(status));
  if (code === Code.OK) return undefined;
  return new FerryError(code, decodeURIComponent(h?.get(natsRpcHeader.message) ?? ""), { metadata: readMetadata(h, natsRpcHeader.trailerPrefix) });
}

/** A header-safe form of an error message (percent-encoded, as gRPC does for grpc-message). */
export function encodeMessage(text: string): string {
  return encodeURIComponent(text).slice(0, 4096);
}
