import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/**
 * Cross-origin resource sharing for browser callers, per the Fetch standard
 * (fetch.spec.whatwg.org, "CORS protocol"): which origins may call, with
 * which methods and headers, whether credentials (cookies, HTTP
 * authentication) are allowed, and how long a preflight answer is cached.
 */
export interface CorsOptions {
  /**
   * Origins allowed to call, exactly as browsers send them
   * (`"https://shop.example"`, `"http://localhost:5173"`: scheme, host and
   * port, no path), or `"*"` for any origin (not with `credentials`).
   * Required.
   */
  origins: readonly string[] | "*";
  /** Methods allowed in preflights. Default `["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]`. */
  methods?: readonly string[];
  /** Request headers allowed in preflights (case-insensitive). Default `["authorization", "content-type", "x-request-id", "traceparent", "tracestate"]`. */
  allowedHeaders?: readonly string[];
  /** Response headers scripts may read (`Access-Control-Expose-Headers`). Default `["www-authenticate", "retry-after", "x-request-id"]`. */
  exposedHeaders?: readonly string[];
  /** Send `Access-Control-Allow-Credentials: true`. Default false. */
  credentials?: boolean;
  /** How long browsers may cache a preflight answer, in seconds (`Access-Control-Max-Age`). Default 600. */
  maxAgeSeconds?: number;
}

/** Request headers as node:http and node:http2 give them. */
type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * A validated {@link CorsOptions}: the headers of preflight answers and of
 * actual responses, for any HTTP server (the gateway, the Connect side of the
 * gRPC port).
 */
export class CorsPolicy {
  readonly #origins: ReadonlySet<string> | "*";
  readonly #methods: readonly string[];
  readonly #allowedHeaders: ReadonlySet<string>;
  readonly #allowHeadersValue: string;
  readonly #exposed: string;
  readonly #credentials: boolean;
  readonly #maxAge: string;

  /** @throws FerryError INVALID_ARGUMENT for `"*"` with credentials, a malformed origin, or a negative max age. */
  constructor(options: CorsOptions) {
    const credentials = options.credentials ?? false;
    if (options.origins === "*") {
      if (credentials) throw invalid('origins "*" cannot be combined with credentials (Fetch standard: a credentialed response names its origin)');
      this.#origins = "*";
    } else {
      for (const o of options.origins) {
        if (!/^https?:\/\/[^/?#\s]+$/.test(o)) throw invalid(`origin "${o}" must be scheme://host[:port] without a path`);
      }
      this.#origins = new Set(options.origins.map((o) => o.toLowerCase()));
    }
    this.#methods = (options.methods ?? ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]).map((m) => m.toUpperCase());
    const headers = (options.allowedHeaders ?? ["authorization", "content-type", "x-request-id", "traceparent", "tracestate"]).map((h) => h.toLowerCase());
    this.#allowedHeaders = new Set(headers);
    this.#allowHeadersValue = headers.join(", ");
    this.#exposed = (options.exposedHeaders ?? ["www-authenticate", "retry-after", "x-request-id"]).join(", ");
    this.#credentials = credentials;
    const maxAge = options.maxAgeSeconds ?? 600;
    if (!Number.isInteger(maxAge) || maxAge < 0) throw invalid(`maxAgeSeconds must be an integer >= 0, got ${maxAge}`);
    this.#maxAge = String(maxAge);
  }

  /** True when `origin` may call. */
  allows(origin: string): boolean {
    return this.#origins === "*" || this.#origins.has(origin.toLowerCase());
  }

  /** True for a CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
  static isPreflight(method: string | undefined, headers: Headers): boolean {
    return method === "OPTIONS" && typeof headers.origin === "string" && typeof headers["access-control-request-method"] === "string";
  }

  /**
   * The headers of a 204 answer to a preflight when origin, method and every
   * requested header are allowed.
   *
   * @throws FerryError PERMISSION_DENIED (403) naming what is not allowed; answer it without CORS headers, so the browser blocks the actual request.
   */
  preflightHeaders(headers: Headers): Record<string, string> {
    const origin = String(headers.origin);
    if (!this.allows(origin)) throw new FerryError(Code.PERMISSION_DENIED, "CORS: this origin is not allowed");
    const method = String(headers["access-control-request-method"]).toUpperCase();
    if (!this.#methods.includes(method)) throw new FerryError(Code.PERMISSION_DENIED, `CORS: method ${method.slice(0, 16)} is not allowed`);
    const requested = String(headers["access-control-request-headers"] ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== "");
    const refused = requested.find((h) => !this.#allowedHeaders.has(h));
    if (refused !== undefined) throw new FerryError(Code.PERMISSION_DENIED, `CORS: request header ${refused.slice(0, 64)} is not allowed`);
    return {
      ...this.#originHeaders(origin),
      "access-control-allow-methods": this.#methods.join(", "),
      "access-control-allow-headers": this.#allowHeadersValue,
      "access-control-max-age": this.#maxAge,
      vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    };
  }

  /** The CORS headers of an actual (non-preflight) response: allow and expose headers when its `Origin` is allowed; `Vary: Origin` always (unless any origin is allowed). */
  responseHeaders(headers: Headers): Record<string, string> {
    const origin = headers.origin;
    const out: Record<string, string> = this.#origins === "*" ? {} : { vary: "Origin" };
    if (typeof origin !== "string" || !this.allows(origin)) return out;
    Object.assign(out, this.#originHeaders(origin));
    if (this.#exposed !== "") out["access-control-expose-headers"] = this.#exposed;
    return out;
  }

  #originHeaders(origin: string): Record<string, string> {
    const out: Record<string, string> = { "access-control-allow-origin": this.#origins === "*" ? "*" : origin };
    if (this.#origins !== "*") out.vary = "Origin";
    if (this.#credentials) out["access-control-allow-credentials"] = "true";
    return out;
  }
}

function invalid(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `CORS: ${message}`);
}
