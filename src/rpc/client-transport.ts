import type { AnyRequest, AnyResponse } from "./call.js";

/**
 * The client side of a transport: carries one call to a server and brings its
 * response back. Implemented by `grpc`, `native` and `inproc`, and by
 * channels that pick one of several transports per call.
 *
 * `call` receives a request whose messages are already message instances of
 * the method's input type. It resolves once response headers arrive (streams)
 * or the whole response did (unary), and rejects with a FerryError — never any
 * other error type. It must stop the call (RST_STREAM or its equivalent) when
 * `request.signal` fires, rejecting with the signal's reason, and send the
 * remaining time of `request.deadline` to the server.
 */
export interface ClientTransport {
  /**
   * The transport's name (`"grpc"`, `"native"`, `"inproc"`, `"nats"`), for
   * telemetry: the `ferry.transport` and `rpc.system` of client spans and
   * metrics. Optional; `undefined` reports the transport as unknown.
   */
  readonly transportName?: string;
  /** Carries one call. */
  call(request: AnyRequest): Promise<AnyResponse>;
  /**
   * Closes connections once in-flight calls finish. Later calls fail with
   * UNAVAILABLE.
   */
  close(): Promise<void>;
}
