import { Code, codeName } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/**
 * Exit status for bad usage (unknown flag, missing argument, malformed URL),
 * as grpcurl and most Unix tools use it. gRPC status codes 1–16 are the exit
 * statuses of a failed call; 0 is success.
 */
export const EXIT_USAGE = 2;

/**
 * A mistake in how the command was invoked: printed as one line on stderr and
 * exits with {@link EXIT_USAGE}. Not a gRPC status: the call never started.
 */
export class CliUsageError extends Error {
  override name = "CliUsageError";
}

/**
 * Ends a command with `exitCode` and no error text, for a command whose
 * answer is its exit status (`ferry health` exits 1 when the service is not
 * SERVING, after printing the status on stdout).
 */
export class CliExitStatus extends Error {
  override name = "CliExitStatus";
  /** @param exitCode - the exit status, 1–255. */
  constructor(readonly exitCode: number) {
    super(`exit status ${exitCode}`);
  }
}

/**
 * A failed call whose error details were decoded with the call's descriptors:
 * printed like any FerryError, with `detailLines` in place of the raw details.
 */
export class CliCallFailure extends Error {
  override name = "CliCallFailure";
  /**
   * @param error - the call's error; its code is the exit status.
   * @param detailLines - one line per detail, without indentation.
   */
  constructor(
    readonly error: FerryError,
    readonly detailLines: readonly string[],
  ) {
    super(error.message, { cause: error });
  }
}

/** What a failed command prints and the exit status it ends with. */
export interface CliFailure {
  /** One or more lines for stderr, without a trailing newline. */
  readonly text: string;
  /** 2 for usage errors; the gRPC status code (1–16) for a failed call. */
  readonly exitCode: number;
}

/**
 * Maps anything a command threw to its stderr text and exit status: a
 * {@link CliUsageError} exits 2; a {@link FerryError} prints
 * `ERROR: CODE_NAME: message` (and each detail's type URL and base64 value)
 * and exits with its code;
 * a {@link CliCallFailure} prints the same with its decoded details;
 * a {@link CliExitStatus} prints nothing (`text` is empty);
 * anything else (a bug) prints `ERROR: INTERNAL: internal error: <its message>`
 * and exits 13; an AbortError or TimeoutError maps to CANCELLED or DEADLINE_EXCEEDED.
 */
export function describeFailure(err: unknown): CliFailure {
  if (err instanceof CliUsageError) return { text: `ferry: ${err.message}`, exitCode: EXIT_USAGE };
  if (err instanceof CliExitStatus) return { text: "", exitCode: err.exitCode };
  if (err instanceof CliCallFailure) {
    const lines = [`ERROR: ${codeName(err.error.code)}: ${err.error.rawMessage}`, ...err.detailLines.map((l) => `  detail: ${l}`)];
    return { text: lines.join("\n"), exitCode: err.error.code };
  }
  const ferry = FerryError.from(err);
  // An unexpected error (a bug) keeps its own message, so a report can name it.
  const message = ferry === err || !(err instanceof Error) ? ferry.rawMessage : `${ferry.rawMessage}: ${err.message}`;
  const lines = [`ERROR: ${codeName(ferry.code)}: ${message}`];
  for (const detail of ferry.details) lines.push(`  detail: ${detail.typeUrl} ${Buffer.from(detail.value).toString("base64")}`);
  return { text: lines.join("\n"), exitCode: ferry.code === Code.OK ? 1 : ferry.code };
}
