import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";

/** gRPC's four method kinds, as protobuf-es names them. */
export type MethodKind = DescMethod["methodKind"];

/**
 * Everything the call pipeline needs about one method, computed once per
 * method and shared by every call of it.
 */
export interface MethodInfo {
  /** The service's descriptor. */
  readonly service: DescService;
  /** The method's descriptor. */
  readonly method: DescMethod;
  /** The HTTP/2 `:path` and routing key, `/package.Service/Method`. */
  readonly path: string;
  /** Unary, server streaming, client streaming or bidi streaming. */
  readonly kind: MethodKind;
  /** True when the client sends a stream (client and bidi streaming). */
  readonly requestStream: boolean;
  /** True when the server sends a stream (server and bidi streaming). */
  readonly responseStream: boolean;
  /** The request message descriptor. */
  readonly input: DescMessage;
  /** The response message descriptor. */
  readonly output: DescMessage;
}

const cache = new WeakMap<DescMethod, MethodInfo>();

/** The {@link MethodInfo} of `method`, built on first use and cached. */
export function methodInfo(method: DescMethod): MethodInfo {
  let info = cache.get(method);
  if (info === undefined) {
    const kind = method.methodKind;
    info = Object.freeze({
      service: method.parent,
      method,
      path: `/${method.parent.typeName}/${method.name}`,
      kind,
      requestStream: kind === "client_streaming" || kind === "bidi_streaming",
      responseStream: kind === "server_streaming" || kind === "bidi_streaming",
      input: method.input,
      output: method.output,
    });
    cache.set(method, info);
  }
  return info;
}
