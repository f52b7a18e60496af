import { createServer } from "node:net";

/**
 * What the JSON-speaking peer contenders (NestJS microservices, Moleculer)
 * share: their wire format is JSON, so the 100-byte payload travels as a
 * base64 string (136 characters), as a user of those frameworks would send
 * bytes. The client encodes a payload once (the load loop reuses it) and
 * checks the echoed length without decoding.
 */

/** An echo request: the payload in base64. Server streaming adds `count`. */
export interface JsonEcho {
  readonly payload: string;
  readonly count?: number;
}

let lastPayload: Uint8Array | undefined;
let lastBase64 = "";

/** `payload` in base64, cached for the load loop's one payload object. */
export function toBase64(payload: Uint8Array): string {
  if (payload !== lastPayload) {
    lastPayload = payload;
    lastBase64 = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString("base64");
  }
  return lastBase64;
}

/** The byte length a base64 string decodes to. */
export function base64Bytes(s: string): number {
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  return (s.length / 4) * 3 - pad;
}

/** A free TCP port on `host` (for frameworks that cannot report the port they bound to port 0). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}
