import type { PeerCertificateInfo } from "../transport/peer-certificate.js";
import type { ServiceIdentity } from "./principal.js";

const SAN_ENTRY = /(DNS|URI|IP Address|email|othername|DirName):("(?:[^"\\]|\\.)*"|[^,]*)/g;

/**
 * The service identity of a client certificate, or `undefined` when there
 * is none or it did not chain to the server's CA (`authorized` false): an
 * unverified certificate never names a principal.
 *
 * The identity (`id`) is the first URI subject alternative name — a SPIFFE
 * ID such as `spiffe://shop.local/order` (SPIFFE X.509-SVID §2) — or, without
 * one, the subject common name. Values that `node:tls` quotes (those with
 * commas or quotes, Node ≥ 17.3) are unquoted.
 */
export function serviceIdentityOf(cert: PeerCertificateInfo | undefined): ServiceIdentity | undefined {
  if (cert === undefined || cert.authorized !== true) return undefined;
  const uris: string[] = [];
  const dnsNames: string[] = [];
  for (const m of (cert.subjectaltname ?? "").matchAll(SAN_ENTRY)) {
    const value = unquote(m[2].trim());
    if (m[1] === "URI") uris.push(value);
    else if (m[1] === "DNS") dnsNames.push(value);
  }
  const cn = cert.subject?.CN;
  const commonName = Array.isArray(cn) ? (cn[0] as string | undefined) : cn;
  const id = uris[0] ?? commonName;
  if (id === undefined || id === "") return undefined;
  return { id, uris, dnsNames, commonName, fingerprint256: cert.fingerprint256 };
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    return JSON.parse(value) as string;
  } catch {
    return value;
  }
}
