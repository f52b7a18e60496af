import { pino } from "pino";
import { ferryLogOptions } from "../observability/log-correlation.js";

/**
 * The logging interface Ferry writes to: pino's, so a pino logger (or a
 * child of one) can be passed wherever Ferry takes a `logger` option.
 */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

let defaultLogger: Logger | undefined;

/**
 * The logger used when none is given: pino to standard output, at the level
 * in `FERRY_LOG_LEVEL` (default `"info"`; `"silent"` turns it off). Lines
 * written inside an OpenTelemetry span carry `trace_id` and `span_id`, and
 * secrets (authorization headers, tokens, URL passwords) are redacted — see
 * `ferryLogOptions` in `ferry/observability`.
 */
export function getDefaultLogger(): Logger {
  return (defaultLogger ??= pino({ ...ferryLogOptions(), name: "ferry", level: process.env.FERRY_LOG_LEVEL ?? "info" }));
}
