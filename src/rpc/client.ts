import type { DescMessage, DescService, Message, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { methodInfo, type MethodInfo } from "../contract/method-info.js";
import { toMessage } from "../contract/codec.js";
import type { AnyRequest, AnyResponse, CallHandler, StreamResponse, UnaryResponse } from "./call.js";
import type { CallOptions } from "./call-options.js";
import { createCallSignal, type CallSignal } from "./call-signal.js";
import type { ClientTransport } from "./client-transport.js";
import { Code } from "./code.js";
import { FerryError } from "./ferry-error.js";
import { applyInterceptors, type Interceptor } from "./interceptor.js";
import { Metadata } from "./metadata.js";
import { clientTransportFromUrl, type ClientTransportOptions } from "./transport-registry.js";
import { createClientTelemetryInterceptor } from "../observability/client-telemetry.js";

/** A unary method on a client. Rejects with a FerryError. */
export type UnaryFn<I extends DescMessage, O extends DescMessage> = (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>;
/** A server-streaming method: iterate the result; the iterator throws a FerryError on a non-OK status. */
export type ServerStreamingFn<I extends DescMessage, O extends DescMessage> = (request: MessageInitShape<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>;
/** A client-streaming method: pass an AsyncIterable of requests. */
export type ClientStreamingFn<I extends DescMessage, O extends DescMessage> = (requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions) => Promise<MessageShape<O>>;
/** A bidi-streaming method: pass an AsyncIterable of requests, iterate the responses. */
export type BidiStreamingFn<I extends DescMessage, O extends DescMessage> = (requests: AsyncIterable<MessageInitShape<I>>, options?: CallOptions) => AsyncIterable<MessageShape<O>>;

/** The client function type of one method, chosen by its method kind. */
export type ClientMethod<M> = M extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? UnaryFn<I, O>
  : M extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? ServerStreamingFn<I, O>
    : M extends { methodKind: "client_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? ClientStreamingFn<I, O>
      : M extends { methodKind: "bidi_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
        ? BidiStreamingFn<I, O>
        : never;

/**
 * A typed client of service `S`: one function per method, by `localName`,
 * and `[Symbol.asyncDispose]` (so `await using client = createClient(…)`
 * works), which does what {@link closeClient} does.
 */
export type Client<S extends DescService> = { [K in keyof S["method"]]: ClientMethod<S["method"][K]> } & AsyncDisposable;

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Client interceptors, the first outermost (see {@link Interceptor}). Default none. */
  interceptors?: Interceptor[];
  /**
   * Built-in OpenTelemetry instrumentation through `@opentelemetry/api`: a
   * CLIENT span per call with W3C trace context injected into the request
   * metadata, and the `rpc.client.duration` histogram — outside every
   * interceptor in `interceptors` (see docs/observability.md). Costs one
   * provider check per call while no SDK is registered. Default true.
   */
  telemetry?: boolean;
  /**
   * TLS client credentials when `transport` is a target URL (see
   * `ClientTransportOptions.tls`): `ca`, `cert` and `key` for mTLS,
   * `checkServerIdentity`, … — used by `natives://` and `grpcs://` targets and
   * by every endpoint a `registry:`, `static:` or `dns:` target resolves to;
   * cleartext endpoints are then refused with INVALID_ARGUMENT. Ignored for a
   * {@link ClientTransport} object (configure that transport instead).
   */
  tls?: ClientTransportOptions["tls"];
}

/**
 * Creates a typed client of `service`.
 *
 * `transport` is a {@link ClientTransport} (for example from
 * `createInProcessTransport(server)` or `createGrpcTransport(...)`) or a
 * target URL whose scheme picks the transport: `grpc://host:port`,
 * `inproc://name`, and the schemes other transport modules register (see
 * docs/transports.md). A URL's transport is created on the first call.
 *
 * Unary methods return a Promise; streaming methods take and return
 * AsyncIterables. Every failure is a FerryError.
 */
export function createClient<S extends DescService>(service: S, transport: ClientTransport | string, options: ClientOptions = {}): Client<S> {
  const owned = lazyTransport(transport, options.tls === undefined ? undefined : { tls: options.tls });
  const client: Record<string | symbol, unknown> = {};
  // Observability: the built-in telemetry interceptor goes outermost (src/observability).
  const target = typeof transport === "string" ? { target: transport } : { transportName: transport.transportName };
  const interceptors = options.telemetry === false ? options.interceptors ?? [] : [createClientTelemetryInterceptor(target), ...(options.interceptors ?? [])];
  for (const method of service.methods) {
    const info = methodInfo(method);
    const chain = applyInterceptors(owned.send, interceptors);
    client[method.localName] = makeMethod(info, chain);
  }
  Object.defineProperty(client, Symbol.asyncDispose, { value: owned.close, enumerable: false, configurable: true });
  return client as Client<S>;
}

/**
 * Closes what a client owns: the transport it created from a target URL
 * (connections close once in-flight calls finish; later calls fail with
 * UNAVAILABLE). A client made from a {@link ClientTransport} object does not
 * own it, so closing such a client does nothing: close the transport itself.
 * Idempotent; the same as `await client[Symbol.asyncDispose]()`.
 */
export function closeClient(client: AsyncDisposable): Promise<void> {
  return Promise.resolve(client[Symbol.asyncDispose]());
}

interface OwnedTransport {
  readonly send: CallHandler;
  readonly close: () => Promise<void>;
}

function lazyTransport(transport: ClientTransport | string, transportOptions: ClientTransportOptions | undefined): OwnedTransport {
  if (typeof transport !== "string") return { send: (req) => transport.call(req), close: () => Promise.resolve() };
  let pending: Promise<ClientTransport> | undefined;
  let closed = false;
  return {
    send: (req) => {
      if (closed) return Promise.reject(new FerryError(Code.UNAVAILABLE, `client for ${transport} is closed`));
      pending ??= clientTransportFromUrl(transport, transportOptions);
      return pending.then((t) => t.call(req));
    },
    close: () => {
      closed = true;
      return pending === undefined ? Promise.resolve() : pending.then((t) => t.close(), () => undefined);
    },
  };
}

function makeMethod(info: MethodInfo, chain: CallHandler): unknown {
  if (!info.requestStream && !info.responseStream) {
    return (init: unknown, opts: CallOptions = {}) => callUnary(info, chain, init, opts);
  }
  if (!info.requestStream) {
    return (init: unknown, opts: CallOptions = {}) => callStream(info, chain, toMessage(info.input, init), opts);
  }
  if (!info.responseStream) {
    return (inits: AsyncIterable<unknown>, opts: CallOptions = {}) => callUnary(info, chain, toMessages(info, inits), opts);
  }
  return (inits: AsyncIterable<unknown>, opts: CallOptions = {}) => callStream(info, chain, toMessages(info, inits), opts);
}

async function* toMessages(info: MethodInfo, inits: AsyncIterable<unknown>): AsyncIterable<Message> {
  for await (const init of inits) yield toMessage(info.input, init);
}

function buildRequest(info: MethodInfo, input: Message | AsyncIterable<Message>, opts: CallOptions, cs: CallSignal): AnyRequest {
  const metadata = new Metadata(opts.metadata);
  return info.requestStream
    ? { stream: true, method: info, metadata, deadline: cs.deadline, signal: cs.signal, context: cs.parent, messages: input as AsyncIterable<Message> }
    : { stream: false, method: info, metadata, deadline: cs.deadline, signal: cs.signal, context: cs.parent, message: input as Message };
}

/**
 * One unary or client-streaming call. Written with `then` rather than
 * `async`/`await`: with async hooks enabled (AsyncLocalStorage, Node 20) every
 * await allocates an extra promise, and this runs once per call.
 */
function callUnary(info: MethodInfo, chain: CallHandler, init: unknown, opts: CallOptions): Promise<Message> {
  let cs: CallSignal;
  let sent: Promise<AnyResponse>;
  try {
    const input = info.requestStream ? (init as AsyncIterable<Message>) : toMessage(info.input, init);
    cs = createCallSignal(opts, info.requestStream);
    sent = chain(buildRequest(info, input, opts, cs));
  } catch (err) {
    return Promise.reject(FerryError.from(err));
  }
  return sent.then(
    (res) => {
      cs.dispose();
      opts.onHeaders?.(res.headers);
      opts.onTrailers?.(res.trailers);
      return (res as UnaryResponse).message;
    },
    (err: unknown) => {
      cs.dispose();
      const e = FerryError.from(err);
      opts.onTrailers?.(e.metadata);
      throw e;
    },
  );
}

async function* callStream(info: MethodInfo, chain: CallHandler, input: Message | AsyncIterable<Message>, opts: CallOptions): AsyncIterable<Message> {
  const cs = createCallSignal(opts, true);
  let completed = false;
  try {
    const res = (await chain(buildRequest(info, input, opts, cs))) as StreamResponse;
    opts.onHeaders?.(res.headers);
    for await (const m of res.messages) yield m;
    completed = true;
    opts.onTrailers?.(res.trailers);
  } catch (err) {
    completed = true;
    const e = FerryError.from(err);
    opts.onTrailers?.(e.metadata);
    throw e;
  } finally {
    if (!completed) cs.cancel();
    cs.dispose();
  }
}
