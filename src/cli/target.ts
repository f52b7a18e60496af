import { CliUsageError } from "./cli-error.js";

const FERRY_SCHEMES = new Set(["grpc:", "grpcs:", "native:", "natives:", "native+unix:", "inproc:", "registry:", "static:", "dns:"]);

/**
 * Turns what a user typed as a target into a Ferry client URL. Ferry URLs
 * (`grpc://`, `grpcs://`, `native://`, `natives://`, `native+unix://`,
 * `registry:///…`, `static:///…`, `dns:///…`) pass through; a plain
 * `host:port` (or `[::1]:port`) means gRPC over h2c, as grpcurl users type it.
 *
 * @throws CliUsageError (exit status 2) for anything else, naming the forms accepted.
 */
export function parseTarget(text: string): string {
  if (/^[^:/]+:\d+$/.test(text) || /^\[[0-9a-fA-F:.]+\]:\d+$/.test(text)) return `grpc://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliUsageError(`bad target "${text}": expected host:port or a URL such as grpc://127.0.0.1:50051`);
  }
  if (!FERRY_SCHEMES.has(url.protocol)) {
    throw new CliUsageError(`bad target "${text}": unknown scheme "${url.protocol}" (known: ${[...FERRY_SCHEMES].map((s) => `${s}//`).join(", ")})`);
  }
  return text;
}
