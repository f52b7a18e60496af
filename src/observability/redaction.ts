/**
 * Secrets that must never reach a log line, a span or a resource attribute:
 * passwords in URLs (`amqp://guest:guest@host`, `redis://:pw@host`),
 * `Authorization` header values, bearer tokens and JWTs.
 */

/** What replaces a secret. */
export const REDACTED = "[redacted]";

/**
 * pino `redact` paths for Ferry's log fields: authorization and cookie
 * headers (in request metadata, gateway requests and errors' metadata),
 * tokens, passwords and broker/database URLs' credentials fields.
 */
export const LOG_REDACT_PATHS: readonly string[] = Object.freeze([
  "authorization",
  "headers.authorization",
  "headers.cookie",
  "metadata.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "err.metadata.authorization",
  "password",
  "*.password",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "secret",
  "*.secret",
]);

const urlCredentials = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]*)@/gi;
const bearer = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const jwt = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/**
 * `text` with credentials replaced by {@link REDACTED}: the password of
 * every URL (the user name stays: `amqp://guest:[redacted]@host`), `Bearer`
 * and `Basic` credentials, and anything shaped like a JWT. Text without
 * secrets comes back unchanged (the same string).
 */
export function redactSecrets(text: string): string {
  if (!text.includes("://") && !/bearer|basic|eyJ/i.test(text)) return text;
  return text.replace(urlCredentials, `$1$2:${REDACTED}@`).replace(bearer, `$1 ${REDACTED}`).replace(jwt, REDACTED);
}

/** {@link redactSecrets} over every string (and string array) value of `attributes`; other values unchanged. */
export function redactAttributeValues<T extends Record<string, unknown>>(attributes: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (typeof v === "string") out[k] = redactSecrets(v);
    else if (Array.isArray(v)) out[k] = v.map((x: unknown) => (typeof x === "string" ? redactSecrets(x) : x));
    else out[k] = v;
  }
  return out as T;
}
