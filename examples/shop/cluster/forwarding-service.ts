import type { DescService } from "@bufbuild/protobuf";
import type { Client, ServiceImpl } from "../../../src/index.js";

/**
 * A service implementation that forwards every unary call to `client` (the
 * gateway's gRPC port: the request goes on to an instance through its
 * channel, with the caller's deadline and cancellation, because a client call
 * made inside a handler inherits them). Streaming methods are left out and
 * answer UNIMPLEMENTED; the shop has none.
 */
export function forwardingService<S extends DescService>(service: S, client: Client<S>): ServiceImpl<S> {
  const impl: Record<string, unknown> = {};
  const calls = client as unknown as Record<string, (request: unknown) => Promise<unknown>>;
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    const call = calls[method.localName];
    impl[method.localName] = (request: unknown) => call(request);
  }
  return impl as ServiceImpl<S>;
}
