import type { Any } from "@bufbuild/protobuf/wkt";
import { Code, codeName } from "./code.js";
import { Metadata, type MetadataInit } from "./metadata.js";

const brand = Symbol.for("ferry.FerryError");

/** Options of the {@link FerryError} constructor. */
export interface FerryErrorOptions {
  /** Trailers (on the server: sent with the status; on the client: received with it). */
  metadata?: MetadataInit;
  /** Rich error details, as `google.protobuf.Any`, sent in `grpc-status-details-bin` (google.rpc.Status). */
  details?: Any[];
  /** The underlying error, kept for logs; never sent to the peer. */
  cause?: unknown;
  /**
   * Whether the caller may safely retry the same call. Defaults to `true` for
   * UNAVAILABLE (the gRPC spec's "retry with backoff" code) and `false` for
   * every other code; a retry policy reads this instead of guessing from the message.
   */
  retryable?: boolean;
}

/**
 * The one error type of Ferry: a status code from the closed set {@link Code},
 * a message, optional details and metadata (trailers).
 *
 * Handlers throw it to choose the status the caller sees; clients receive it
 * for every failed call, whatever the transport. Anything else a handler
 * throws reaches the caller as INTERNAL with the fixed message "internal
 * error" (its text and stack stay in the server's log). `instanceof` works
 * across duplicate installs of Ferry (the brand is a `Symbol.for` key).
 */
export class FerryError extends Error {
  override name = "FerryError";
  /** The status code. Never OK. */
  readonly code: Code;
  /** The message without the `[code]` prefix that `message` carries. */
  readonly rawMessage: string;
  /** Trailers that came with the error. */
  readonly metadata: Metadata;
  /** Rich details (google.protobuf.Any), from or for `grpc-status-details-bin`. */
  readonly details: Any[];
  /** Whether retrying the call is safe; see {@link FerryErrorOptions.retryable}. */
  readonly retryable: boolean;
  declare readonly [brand]: true;

  /**
   * @param code - the status code; OK is replaced by UNKNOWN since an error cannot be OK.
   * @param message - a human-readable message; the caller sees it verbatim.
   */
  constructor(code: Code, message: string, options: FerryErrorOptions = {}) {
    const c = code === Code.OK ? Code.UNKNOWN : code;
    super(message === "" ? `[${codeName(c)}]` : `[${codeName(c)}] ${message}`, { cause: options.cause });
    this.code = c;
    this.rawMessage = message;
    this.metadata = options.metadata instanceof Metadata ? options.metadata : new Metadata(options.metadata);
    this.details = options.details ?? [];
    this.retryable = options.retryable ?? c === Code.UNAVAILABLE;
    Object.defineProperty(this, brand, { value: true });
  }

  /** True for FerryErrors from any copy of this module. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }

  /**
   * Normalises anything caught into a FerryError: a FerryError is returned as
   * is; an `AbortError` or `TimeoutError` from an `AbortSignal` becomes
   * CANCELLED or DEADLINE_EXCEEDED; anything else becomes `fallbackCode`
   * (default INTERNAL) with the fixed message "internal error", the original
   * kept only as `cause`.
   */
  static from(reason: unknown, fallbackCode: Code = Code.INTERNAL): FerryError {
    if (reason instanceof FerryError) return reason;
    if (reason instanceof Error || isDomException(reason)) {
      const name = (reason as Error).name;
      if (name === "AbortError") return new FerryError(Code.CANCELLED, "call cancelled", { cause: reason });
      if (name === "TimeoutError") return new FerryError(Code.DEADLINE_EXCEEDED, "deadline exceeded", { cause: reason });
    }
    return new FerryError(fallbackCode, fallbackCode === Code.INTERNAL ? "internal error" : String(reason), { cause: reason });
  }
}

function isDomException(value: unknown): boolean {
  return typeof DOMException !== "undefined" && value instanceof DOMException;
}
