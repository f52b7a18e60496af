import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** Metadata key of the RFC 6750 challenge carried by authentication and authorization failures; the gateway sends it as the `WWW-Authenticate` header. */
export const WWW_AUTHENTICATE = "www-authenticate";

/** Longest piece of caller input quoted in an auth error message, in characters. */
const MAX_QUOTED_CHARS = 40;

/**
 * UNAUTHENTICATED (HTTP 401) for a token that failed `check` (`"alg"`,
 * `"exp"`, `"signature"`, …), with the RFC 6750 §3 challenge
 * `Bearer error="invalid_token", error_description="…"` in the
 * `www-authenticate` metadata. The message names the check and never
 * contains the token.
 */
export function invalidToken(check: string, detail: string): FerryError {
  const message = `invalid token: ${check}: ${detail}`;
  return new FerryError(Code.UNAUTHENTICATED, message, {
    metadata: { [WWW_AUTHENTICATE]: `Bearer error="invalid_token", error_description="${challengeText(message)}"` },
  });
}

/**
 * UNAUTHENTICATED (HTTP 401) for a call without credentials where the
 * method needs them; the challenge is a bare `Bearer` (RFC 6750 §3.1: no
 * error code when the request carried no authentication).
 */
export function missingCredentials(what: string): FerryError {
  return new FerryError(Code.UNAUTHENTICATED, what, { metadata: { [WWW_AUTHENTICATE]: 'Bearer realm="ferry"' } });
}

/**
 * PERMISSION_DENIED (HTTP 403) naming the policy check that failed; with
 * `scopes`, the challenge `Bearer error="insufficient_scope", scope="…"`
 * (RFC 6750 §3.1).
 */
export function permissionDenied(message: string, scopes?: readonly string[]): FerryError {
  const metadata = scopes !== undefined && scopes.length > 0 ? { [WWW_AUTHENTICATE]: `Bearer error="insufficient_scope", scope="${challengeText(scopes.join(" "))}"` } : undefined;
  return new FerryError(Code.PERMISSION_DENIED, message, { metadata });
}

/** Quotes caller input for a message: printable ASCII only, at most 40 characters, then `…`. */
export function quoteInput(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, "?").replace(/"/g, "'");
  return clean.length > MAX_QUOTED_CHARS ? `"${clean.slice(0, MAX_QUOTED_CHARS)}"... (${clean.length} characters)` : `"${clean}"`;
}

/** RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E (no `"` or `\`). */
function challengeText(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, "'");
}
