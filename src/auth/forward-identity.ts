import { currentCallContext } from "../rpc/call-context.js";
import type { CallHandler } from "../rpc/call.js";
import type { Interceptor } from "../rpc/interceptor.js";

/**
 * A client interceptor that forwards the end user's Bearer token: a call
 * made from inside a handler carries the `authorization` metadata of the
 * server call it is made from (found through `request.context`, or the
 * implicit call context), unless the call sets its own.
 *
 * Forwarding is opt-in per client: add it only to clients whose transport
 * is mutually authenticated TLS (`grpcs://`, `natives://` with client
 * certificates) to services that verify the same tokens; tokens are bearer
 * credentials and anyone who sees one can replay it until `exp`.
 */
export function createForwardAuthorizationInterceptor(): Interceptor {
  return (next: CallHandler): CallHandler => (request) => {
    if (!request.metadata.has("authorization")) {
      const parent = request.context ?? currentCallContext();
      const value = parent?.requestMetadata.getText("authorization");
      if (value !== undefined) request.metadata.set("authorization", value);
    }
    return next(request);
  };
}
