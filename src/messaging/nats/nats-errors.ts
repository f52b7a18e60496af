import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";

/**
 * Maps a nats.js error to a FerryError: connection loss, timeouts, "no
 * responders" and "jetstream is not enabled" (nats.js's reading of a 503 on a
 * JetStream request: JetStream not answering, e.g. while the server restarts
 * or, in a cluster, while a stream has no leader) become UNAVAILABLE
 * (retryable); a stream or consumer JetStream does not
 * know becomes NOT_FOUND; anything else INTERNAL with the library's message
 * (kept as `cause`).
 */
export function natsError(err: unknown, action: string): FerryError {
  if (err instanceof FerryError) return err;
  const e = err as Error & { code?: unknown };
  const name = e?.name ?? "";
  const message = `${action}: ${e?.message ?? String(err)}`;
  if (/Timeout|NoResponders|NotEnabled|ClosedConnection|Connection|Draining|RequestError/.test(name) || /timeout|no responders|not enabled|closed|disconnect/i.test(e?.message ?? "")) {
    return new FerryError(Code.UNAVAILABLE, message, { cause: err });
  }
  if (/NotFound/.test(name)) return new FerryError(Code.NOT_FOUND, message, { cause: err });
  if (/InvalidName|InvalidArgument|InvalidSubject/.test(name)) return new FerryError(Code.INVALID_ARGUMENT, message, { cause: err });
  return new FerryError(Code.INTERNAL, message, { cause: err });
}
