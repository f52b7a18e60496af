import type { DescService, Message } from "@bufbuild/protobuf";
import { methodInfo, type MethodInfo } from "../contract/method-info.js";
import { toMessage } from "../contract/codec.js";
import type { AnyRequest, AnyResponse, CallHandler, UnaryResponse } from "./call.js";
import { callContextStorage, type CallContext } from "./call-context.js";
import { Code } from "./code.js";
import { FerryError } from "./ferry-error.js";
import { Metadata } from "./metadata.js";
import { applyInterceptors, type Interceptor } from "./interceptor.js";
import type { Logger } from "../util/logger.js";
import { findMethodImpl, type AnyMethodImpl } from "./service-impl.js";
import { pipeResponse, type ResponseSink } from "./response-stream.js";

/** One routable method: its info and its handler wrapped in the server's interceptors. */
export interface MethodEntry {
  readonly info: MethodInfo;
  /** The interceptor chain ending in the handler; built once when the service is added. */
  readonly handler: CallHandler;
}

/** Options of a {@link Router}. */
export interface RouterOptions {
  interceptors: readonly Interceptor[];
  logger: Logger;
  /** Largest message a transport accepts, in bytes. */
  maxReceiveMessageBytes: number;
  /** Whether handlers run with their call context in `callContextStorage` (see ServerOptions.implicitCallContext). */
  implicitCallContext: boolean;
  /**
   * Called once per failed call with the error its client receives, when
   * that error passes {@link Router.toWireError}: what a handler or an
   * interceptor threw or rejected with, a streamed response's error, a
   * response that could not be encoded. The server's failed-call log line
   * (src/observability) is written here, so that a call that succeeds pays
   * nothing for it. Default: none.
   */
  onCallFailed?: (error: FerryError, ctx: CallContext) => void;
}

/**
 * Maps `/package.Service/Method` paths to handlers. Every server transport
 * dispatches through {@link Router.dispatch}, so that interceptors, error
 * normalisation, logging and deadline propagation behave the same on each.
 */
export class Router {
  readonly #entries = new Map<string, MethodEntry>();
  readonly #services = new Map<string, DescService>();
  /** Failed calls already given to `onCallFailed`. */
  readonly #failed = new WeakSet<CallContext>();
  readonly options: RouterOptions;

  constructor(options: RouterOptions) {
    this.options = options;
  }

  /** The server's logger. */
  get logger(): Logger {
    return this.options.logger;
  }

  /** Adds every method of `service` whose handler `impl` provides. Raises ALREADY_EXISTS on a duplicate service. */
  addService(service: DescService, impl: object): void {
    if (this.#services.has(service.typeName)) {
      throw new FerryError(Code.ALREADY_EXISTS, `service ${service.typeName} is already registered`);
    }
    this.#services.set(service.typeName, service);
    for (const method of service.methods) {
      const info = methodInfo(method);
      const fn = findMethodImpl(impl as Record<string, unknown>, method);
      const base = fn === undefined ? unimplemented(info) : baseHandler(info, fn);
      this.#entries.set(info.path, { info, handler: applyInterceptors(base, this.options.interceptors) });
    }
  }

  /** The entry for `path`, or `undefined`. */
  lookup(path: string): MethodEntry | undefined {
    return this.#entries.get(path);
  }

  /** Every registered service. */
  services(): DescService[] {
    return [...this.#services.values()];
  }

  /**
   * The UNIMPLEMENTED error for an unknown `path`, saying whether the service
   * or only the method is unknown.
   */
  unknownPathError(path: string): FerryError {
    const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
    if (match === null) return new FerryError(Code.UNIMPLEMENTED, `malformed method path "${path}"`);
    if (!this.#services.has(match[1])) return new FerryError(Code.UNIMPLEMENTED, `unknown service ${match[1]}`);
    return new FerryError(Code.UNIMPLEMENTED, `unknown method ${match[2]} of service ${match[1]}`);
  }

  /**
   * Runs `request` through the entry's interceptors and handler, with the
   * call's context installed for deadline propagation. Resolves with the
   * response; rejects only with a FerryError (see {@link Router.toWireError}).
   */
  dispatch(entry: MethodEntry, request: AnyRequest): Promise<AnyResponse> {
    const ctx = request.context as CallContext;
    return this.run(entry, request).catch((err: unknown) => {
      throw this.toWireError(err, ctx);
    });
  }

  /**
   * Like {@link dispatch}, but the promise may reject with anything the
   * handler or an interceptor threw: the caller passes the rejection through
   * {@link toWireError} itself. Saves one promise per call on hot paths.
   */
  run(entry: MethodEntry, request: AnyRequest): Promise<AnyResponse> {
    const ctx = request.context as CallContext;
    if (!this.options.implicitCallContext || callContextStorage.getStore() === ctx) return invoke(entry.handler, request);
    return callContextStorage.run(ctx, invoke, entry.handler, request);
  }

  /**
   * Like {@link dispatch}, but `onResponse` and `onError` run with the call's
   * context installed too. A network transport that iterates a streamed
   * response from `onResponse` then runs the handler's body in its context
   * without re-entering it per message: pass `{ contextInstalled: true }` to
   * {@link normalizeStream}.
   */
  serve(entry: MethodEntry, request: AnyRequest, onResponse: (res: AnyResponse) => void, onError: (err: FerryError) => void): void {
    const ctx = request.context as CallContext;
    const start = () => {
      invoke(entry.handler, request).then(onResponse, (err: unknown) => onError(this.toWireError(err, ctx)));
    };
    if (this.options.implicitCallContext) callContextStorage.run(ctx, start);
    else start();
  }

  /**
   * Normalises what a handler or interceptor threw into the error sent to the
   * client. A FerryError passes unchanged. Anything else is logged with its
   * stack and becomes INTERNAL "internal error", so no internals leak.
   */
  toWireError(err: unknown, ctx: CallContext | undefined): FerryError {
    let e: FerryError;
    if (err instanceof FerryError) e = err;
    else {
      this.options.logger.error({ err, method: ctx?.method.path, peer: ctx?.peer }, "handler failed");
      e = FerryError.from(err);
    }
    if (ctx !== undefined && this.options.onCallFailed !== undefined && !this.#failed.has(ctx)) {
      this.#failed.add(ctx); // a call's error may pass here twice (a transport normalising it again): report it once
      this.options.onCallFailed(e, ctx);
    }
    return e;
  }

  /**
   * The error as the client receives it: the handler's response trailers
   * merged into the error's metadata, as a network transport sends them
   * together. Used by transports that hand errors over without a wire.
   */
  withTrailers(err: FerryError, ctx: CallContext): FerryError {
    if (ctx.responseTrailers.size === 0) return err;
    const metadata = new Metadata(ctx.responseTrailers).merge(err.metadata);
    return new FerryError(err.code, err.rawMessage, { metadata, details: err.details, cause: err.cause, retryable: err.retryable });
  }

  /**
   * Sends a streamed response into a network transport's `sink` (see
   * {@link pipeResponse}): a {@link pushStream} producer writes straight
   * into it, any other `AsyncIterable` is read message by message; messages
   * and init objects go to the sink unconverted (its codec encodes both).
   * Call it from {@link serve}'s `onResponse`, so the handler's body runs in
   * its call context. Resolves when the stream ended (or the call ended
   * first); rejects with the wire error (see {@link toWireError}).
   */
  pipeStream(ctx: CallContext, messages: AsyncIterable<unknown>, sink: ResponseSink): Promise<void> {
    return pipeResponse(messages, sink).catch((err: unknown) => {
      throw this.toWireError(err, ctx);
    });
  }

  /**
   * Wraps a streamed response so that each yielded init shape becomes a
   * message, a thrown error becomes a wire error (see {@link toWireError}),
   * and the handler's body runs with its call context installed whichever
   * code iterates it (re-entered per message, unless `contextInstalled`
   * says the caller iterates from {@link serve}'s `onResponse`). Returning
   * early (the client went away) closes the handler's generator, so its
   * `finally` blocks run.
   */
  normalizeStream(ctx: CallContext, messages: AsyncIterable<unknown>, options: { contextInstalled?: boolean } = {}): AsyncIterable<Message> {
    const output = ctx.method.output;
    const iterator = messages[Symbol.asyncIterator]();
    const reenter = options.contextInstalled !== true && this.options.implicitCallContext;
    const onError = (err: unknown): never => {
      throw this.toWireError(err, ctx);
    };
    const onStep = (r: IteratorResult<unknown>): IteratorResult<Message> => {
      try {
        return r.done ? { done: true, value: undefined } : { done: false, value: toMessage(output, r.value) };
      } catch (err) {
        return onError(err);
      }
    };
    // Not an async function: per message this costs the handler's promise and
    // one reaction, where async/await added two more (each one also runs the
    // promise hooks while AsyncLocalStorage is active on Node 20).
    const next = (): Promise<IteratorResult<Message>> => {
      let step: PromiseLike<IteratorResult<unknown>>;
      try {
        step = reenter ? callContextStorage.run(ctx, () => iterator.next()) : iterator.next();
      } catch (err) {
        return Promise.reject(this.toWireError(err, ctx));
      }
      return Promise.resolve(step).then(onStep, onError);
    };
    return {
      [Symbol.asyncIterator]: () => ({
        next,
        return: async () => {
          await iterator.return?.();
          return { done: true, value: undefined };
        },
      }),
    };
  }
}

function invoke(handler: CallHandler, request: AnyRequest): Promise<AnyResponse> {
  try {
    return handler(request);
  } catch (err) {
    return Promise.reject(err);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

function unimplemented(info: MethodInfo): CallHandler {
  const error = new FerryError(Code.UNIMPLEMENTED, `method ${info.method.name} of ${info.service.typeName} is not implemented`);
  return () => Promise.reject(error);
}

function baseHandler(info: MethodInfo, fn: AnyMethodImpl): CallHandler {
  const output = info.output;
  if (!info.responseStream) {
    // No async function: a handler that returns a plain value costs one
    // promise per call, an async one two (its own and this reaction).
    return (request) => {
      const ctx = request.context as CallContext;
      const respond = (value: unknown): UnaryResponse => ({ stream: false, message: toMessage(output, value), headers: ctx.responseHeaders, trailers: ctx.responseTrailers });
      try {
        const result: unknown = fn(request.stream ? request.messages : request.message, ctx);
        return isThenable(result) ? Promise.resolve(result).then(respond) : Promise.resolve(respond(result));
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }
  return (request) => {
    const ctx = request.context as CallContext;
    const input = request.stream ? request.messages : request.message;
    const messages = fn(input, ctx) as AsyncIterable<Message>;
    if (messages == null || typeof (messages as never)[Symbol.asyncIterator] !== "function") {
      return Promise.reject(new Error(`handler of ${info.path} did not return an AsyncIterable`));
    }
    return Promise.resolve({ stream: true, messages, headers: ctx.responseHeaders, trailers: ctx.responseTrailers });
  };
}
