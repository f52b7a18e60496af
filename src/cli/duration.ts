import { CliUsageError } from "./cli-error.js";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration as typed on the command line: a number followed by
 * `ms`, `s`, `m` or `h` (`250ms`, `5s`, `1.5s`, `1m`, `2h`). A bare number
 * means seconds, as in grpcurl's `-max-time 5`.
 *
 * @param text - what the user typed.
 * @param flag - the flag it came from, named in the error (for example `"--timeout"`).
 * @returns the duration in milliseconds, a positive finite number.
 * @throws CliUsageError (exit status 2) for anything else, or for zero and negative durations.
 */
export function parseDurationMs(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/.exec(text.trim());
  const value = match ? Number(match[1]) * UNIT_MS[match[2] ?? "s"] : NaN;
  if (!Number.isFinite(value) || value <= 0) {
    throw new CliUsageError(`${flag}: bad duration "${text}": expected a positive number with a unit, e.g. 250ms, 5s, 1m or 1h`);
  }
  return value;
}

/**
 * Parses a whole number flag such as `-c 64` or `-n 1000`.
 *
 * @param min - smallest accepted value (inclusive).
 * @param max - largest accepted value (inclusive).
 * @throws CliUsageError (exit status 2) when `text` is not an integer in `[min, max]`.
 */
export function parseIntegerFlag(text: string, flag: string, min: number, max: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CliUsageError(`${flag}: expected a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}
