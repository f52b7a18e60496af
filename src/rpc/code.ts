/**
 * The closed set of status codes shared by every Ferry transport, with gRPC's
 * numbers and meanings (gRPC doc/statuscodes.md). `OK` is never carried by an
 * error; it appears only on the wire.
 */
export enum Code {
  /** Not an error; returned on success. */
  OK = 0,
  /** The operation was cancelled, typically by the caller. */
  CANCELLED = 1,
  /** Unknown error, for example a status from another address space that this one does not know. */
  UNKNOWN = 2,
  /** The client gave an invalid argument, independent of the state of the system. */
  INVALID_ARGUMENT = 3,
  /** The deadline expired before the operation could complete. */
  DEADLINE_EXCEEDED = 4,
  /** A requested entity (a product, an order) was not found. */
  NOT_FOUND = 5,
  /** The entity that a client tried to create already exists. */
  ALREADY_EXISTS = 6,
  /** The caller is authenticated but lacks permission for the operation. */
  PERMISSION_DENIED = 7,
  /** A resource is exhausted: a quota, a rate limit, a message or queue size. */
  RESOURCE_EXHAUSTED = 8,
  /** The system is not in a state required for the operation (for example, out of stock). Do not retry until the state is fixed. */
  FAILED_PRECONDITION = 9,
  /** The operation was aborted, typically by a concurrency conflict; retry at a higher level. */
  ABORTED = 10,
  /** The operation was attempted past the valid range. */
  OUT_OF_RANGE = 11,
  /** The operation is not implemented or not supported by this server (unknown service or method). */
  UNIMPLEMENTED = 12,
  /** An invariant of the system is broken. Handlers' unexpected exceptions become INTERNAL. */
  INTERNAL = 13,
  /** The service is currently unavailable; usually transient, and safe to retry with backoff. */
  UNAVAILABLE = 14,
  /** Unrecoverable data loss or corruption. */
  DATA_LOSS = 15,
  /** The request has no valid authentication credentials. */
  UNAUTHENTICATED = 16,
}

const names: readonly string[] = Object.freeze(
  Array.from({ length: 17 }, (_, c) => Code[c] as string),
);

/**
 * The canonical upper-case name of a code (`"NOT_FOUND"`), as gRPC spells it.
 * Returns `"UNKNOWN"` for a number outside 0–16.
 */
export function codeName(code: number): string {
  return names[code] ?? "UNKNOWN";
}

/**
 * The code's name in lower snake case (`"not_found"`), as the Connect protocol
 * and Ferry's HTTP gateway put it in JSON error bodies.
 */
export function codeToString(code: Code): string {
  return codeName(code).toLowerCase();
}

/**
 * Parses a name from {@link codeName} or {@link codeToString}; `undefined` when
 * the text names no code.
 */
export function codeFromString(text: string): Code | undefined {
  const index = names.indexOf(text.toUpperCase());
  return index < 0 ? undefined : (index as Code);
}

/**
 * Maps a number received on the wire (gRPC `grpc-status`) to a code. Anything
 * outside 0–16 becomes UNKNOWN, as the gRPC spec asks of receivers.
 */
export function codeFromNumber(value: number): Code {
  return Number.isInteger(value) && value >= 0 && value <= 16 ? (value as Code) : Code.UNKNOWN;
}
