import type { Message } from "@bufbuild/protobuf";
import type { AnyRequest } from "./call.js";
import type { CallContext } from "./call-context.js";

/**
 * Builds the request a server transport hands to `Router.dispatch`: the
 * method, metadata and deadline come from `ctx`, and `signal` is the
 * context's, created only if an interceptor or handler reads it.
 */
export function createServerRequest(ctx: CallContext, input: Message | AsyncIterable<Message>): AnyRequest {
  return ctx.method.requestStream
    ? (new ServerStreamRequest(input as AsyncIterable<Message>, ctx) as AnyRequest)
    : (new ServerUnaryRequest(input as Message, ctx) as AnyRequest);
}

class ServerRequestBase {
  readonly method;
  readonly metadata;
  readonly deadline;
  constructor(readonly context: CallContext) {
    this.method = context.method;
    this.metadata = context.requestMetadata;
    this.deadline = context.deadline;
  }
  get signal(): AbortSignal {
    return this.context.signal;
  }
}

class ServerUnaryRequest extends ServerRequestBase {
  readonly stream = false;
  constructor(
    readonly message: Message,
    context: CallContext,
  ) {
    super(context);
  }
}

class ServerStreamRequest extends ServerRequestBase {
  readonly stream = true;
  constructor(
    readonly messages: AsyncIterable<Message>,
    context: CallContext,
  ) {
    super(context);
  }
}
