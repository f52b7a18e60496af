import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { CallContext } from "./call-context.js";

type MaybePromise<T> = T | Promise<T>;

/** A unary handler: one request in, one response out. */
export type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => MaybePromise<MessageInitShape<O>>;

/** A server-streaming handler: one request in, a stream out (usually an async generator). */
export type ServerStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

/** A client-streaming handler: a stream in, one response out. */
export type ClientStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: CallContext,
) => Promise<MessageInitShape<O>>;

/** A bidi-streaming handler: a stream in, a stream out. */
export type BidiStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

/** The handler type of one method, chosen by its method kind. */
export type MethodImpl<M> = M extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? UnaryHandler<I, O>
  : M extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? ServerStreamingHandler<I, O>
    : M extends { methodKind: "client_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? ClientStreamingHandler<I, O>
      : M extends { methodKind: "bidi_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
        ? BidiStreamingHandler<I, O>
        : never;

/**
 * The implementation of a service: one handler per method, keyed by the
 * method's `localName` (lowerCamelCase). Methods left out answer UNIMPLEMENTED.
 */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]?: MethodImpl<S["method"][K]>;
};

/** Any handler, as the router stores it. */
export type AnyMethodImpl = (input: any, context: CallContext) => any;

/** Looks up the handler of `method` in `impl`, bound to `impl`. */
export function findMethodImpl(impl: Record<string, unknown>, method: DescMethod): AnyMethodImpl | undefined {
  const fn = impl[method.localName];
  return typeof fn === "function" ? (fn.bind(impl) as AnyMethodImpl) : undefined;
}
