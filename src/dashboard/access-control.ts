/**
 * Who may use the dashboard. Bound to a loopback address (the default) it
 * answers only requests whose `Host` is a loopback name, which stops DNS
 * rebinding from a web page; bound anywhere else it requires a token.
 *
 * A token is accepted as `Authorization: Bearer T` (what OTLP exporters
 * send with `OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20T`), as the
 * `ferry_dashboard_token` cookie, or as `?token=T` in the URL, which also
 * sets that cookie (HttpOnly, SameSite=Strict) so the page's own requests
 * and its event stream carry it. Compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "./http-replies.js";

/** The cookie that carries the token for the page. */
export const TOKEN_COOKIE = "ferry_dashboard_token";

/** Whether `host` (an address or name, IPv6 with or without brackets) is a loopback one. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/** The host name of a `Host` header (`127.0.0.1:9400`, `[::1]:9400`, `localhost`). */
function hostName(header: string | undefined): string {
  if (header === undefined) return "";
  if (header.startsWith("[")) return header.slice(0, header.indexOf("]") + 1);
  const colon = header.lastIndexOf(":");
  return colon === -1 ? header : header.slice(0, colon);
}

/** Checks requests against the bind address and token. */
export class AccessControl {
  readonly #loopbackOnly: boolean;
  readonly #tokenDigest: Buffer | undefined;

  /**
   * @param options.loopbackOnly answer only `Host: localhost / 127.x / [::1]`.
   * @param options.token the token every request must carry, or `undefined` for none.
   */
  constructor(options: { loopbackOnly: boolean; token: string | undefined }) {
    this.#loopbackOnly = options.loopbackOnly;
    this.#tokenDigest = options.token === undefined ? undefined : digest(options.token);
  }

  /**
   * Throws {@link HttpError} 403 for a foreign `Host` on a loopback-bound
   * dashboard, 401 (with `WWW-Authenticate: Bearer`) without the right
   * token. Sets the token cookie when the token came in the URL.
   */
  check(req: IncomingMessage, url: URL, res: ServerResponse): void {
    if (this.#loopbackOnly && !isLoopbackHost(hostName(req.headers.host))) {
      throw new HttpError(403, `Host "${req.headers.host ?? ""}" is not a loopback name; open the dashboard as http://127.0.0.1:PORT/ or http://localhost:PORT/`);
    }
    if (this.#tokenDigest === undefined) return;
    const fromUrl = url.searchParams.get("token");
    const presented = bearer(req.headers.authorization) ?? cookie(req.headers.cookie, TOKEN_COOKIE) ?? fromUrl ?? undefined;
    if (presented === undefined || !timingSafeEqual(digest(presented), this.#tokenDigest)) {
      throw new HttpError(401, "this dashboard requires its token: open it with ?token=T or send Authorization: Bearer T", { "www-authenticate": 'Bearer realm="ferry-dashboard"' });
    }
    if (fromUrl !== null) res.setHeader("set-cookie", `${TOKEN_COOKIE}=${encodeURIComponent(fromUrl)}; HttpOnly; SameSite=Strict; Path=/`);
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function bearer(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
  return match === null ? undefined : match[1];
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
