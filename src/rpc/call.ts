import type { Message } from "@bufbuild/protobuf";
import type { MethodInfo } from "../contract/method-info.js";
import type { CallContext } from "./call-context.js";
import type { Metadata } from "./metadata.js";

/** What every request shares, on the client and on the server. */
interface RequestCommon {
  /** The method being called. */
  readonly method: MethodInfo;
  /** Request headers (custom metadata). Interceptors may add entries. */
  readonly metadata: Metadata;
  /**
   * The absolute deadline in milliseconds since the Unix epoch (`Date.now()`
   * clock), or `undefined` for none.
   */
  readonly deadline: number | undefined;
  /**
   * Fires when the call is cancelled or its deadline passes; its `reason` is a
   * FerryError (CANCELLED or DEADLINE_EXCEEDED). On the client it is
   * `undefined` when nothing can cancel the call (no signal, no deadline, no
   * parent call), which keeps such calls free of listener bookkeeping.
   */
  readonly signal: AbortSignal | undefined;
  /**
   * On the server, the handler's call context. On the client, the server call
   * this call is made from (deadline propagation), if any.
   */
  readonly context: CallContext | undefined;
}

/** A request carrying exactly one message (unary and server-streaming methods). */
export interface UnaryRequest<I extends Message = Message> extends RequestCommon {
  readonly stream: false;
  readonly message: I;
}

/** A request carrying a stream of messages (client- and bidi-streaming methods). */
export interface StreamRequest<I extends Message = Message> extends RequestCommon {
  readonly stream: true;
  readonly messages: AsyncIterable<I>;
}

/** A response carrying exactly one message (unary and client-streaming methods). */
export interface UnaryResponse<O extends Message = Message> {
  readonly stream: false;
  readonly message: O;
  /** Response headers. */
  readonly headers: Metadata;
  /** Response trailers. */
  readonly trailers: Metadata;
}

/**
 * A response carrying a stream of messages (server- and bidi-streaming
 * methods). On the client, `trailers` is filled in once `messages` has been
 * read to its end; the iterator throws a FerryError for a non-OK status.
 */
export interface StreamResponse<O extends Message = Message> {
  readonly stream: true;
  readonly messages: AsyncIterable<O>;
  readonly headers: Metadata;
  readonly trailers: Metadata;
}

/** Any request. `stream` tells the request side's shape. */
export type AnyRequest = UnaryRequest | StreamRequest;
/** Any response. `stream` tells the response side's shape. */
export type AnyResponse = UnaryResponse | StreamResponse;

/**
 * One step of the call pipeline: takes a request, resolves to a response or
 * rejects with a FerryError. Client transports, server method handlers and
 * interceptors all have this shape.
 */
export type CallHandler = (request: AnyRequest) => Promise<AnyResponse>;
