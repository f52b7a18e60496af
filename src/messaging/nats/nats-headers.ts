import type { MsgHdrs } from "@nats-io/transport-node";

/** Builds NATS message headers from Ferry's (kept exactly, lower-case keys). */
export function toNatsHeaders(make: () => MsgHdrs, headers: Readonly<Record<string, string>>): MsgHdrs {
  const h = make();
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  return h;
}

/** Ferry headers from a received message's NATS headers (JetStream's own `Nats-*` headers left out). */
export function fromNatsHeaders(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === undefined) return out;
  for (const k of h.keys()) {
    if (k.startsWith("Nats-")) continue;
    out[k] = h.get(k);
  }
  return out;
}

/**
 * Bytes the headers take on the wire (`NATS/1.0\r\n`, `key: value\r\n` per
 * entry, a final `\r\n`), for the size check against the server's max_payload.
 */
export function natsHeaderBytes(headers: Readonly<Record<string, string>>, dedupId: string | undefined): number {
  let n = 12;
  for (const [k, v] of Object.entries(headers)) n += k.length + v.length + 4;
  if (dedupId !== undefined) n += "Nats-Msg-Id".length + dedupId.length + 4;
  return n;
}
