import type { DescMethod, Message } from "@bufbuild/protobuf";
import { createClient } from "../rpc/client.js";
import type { CallOptions } from "../rpc/call-options.js";
import type { ClientTransport } from "../rpc/client-transport.js";
import { CliUsageError } from "./cli-error.js";

/**
 * Calls one method of any kind the same way: requests in, responses out.
 * Unary and server-streaming methods take the first request (more is a usage
 * error); client-streaming and bidi methods stream them all.
 */
export type MethodCaller = (requests: AsyncIterable<Message>, options: CallOptions) => AsyncIterable<Message>;

type AnyFn = (input: unknown, options: CallOptions) => unknown;

/**
 * A {@link MethodCaller} for `method` (from reflection or `.proto` files) over
 * `transport`. Failures surface as FerryErrors from the returned iterable,
 * with the call's status code.
 *
 * @throws CliUsageError (exit status 2), from the iterable, when a unary or server-streaming method gets zero or several requests.
 */
export function createMethodCaller(method: DescMethod, transport: ClientTransport): MethodCaller {
  const fn = (createClient(method.parent, transport) as unknown as Record<string, AnyFn>)[method.localName];
  switch (method.methodKind) {
    case "unary":
      return async function* (requests, options) {
        yield (await fn(await single(requests, method), options)) as Message;
      };
    case "server_streaming":
      return async function* (requests, options) {
        yield* fn(await single(requests, method), options) as AsyncIterable<Message>;
      };
    case "client_streaming":
      return async function* (requests, options) {
        yield (await fn(requests, options)) as Message;
      };
    case "bidi_streaming":
      return (requests, options) => fn(requests, options) as AsyncIterable<Message>;
  }
}

async function single(requests: AsyncIterable<Message>, method: DescMethod): Promise<Message> {
  let first: Message | undefined;
  for await (const request of requests) {
    if (first !== undefined) throw new CliUsageError(`${method.parent.typeName}/${method.name} takes one request; got several`);
    first = request;
  }
  if (first === undefined) throw new CliUsageError(`${method.parent.typeName}/${method.name} needs a request; got none`);
  return first;
}
