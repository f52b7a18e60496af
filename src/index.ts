/**
 * Ferry's public API for end users. Library authors (custom transports)
 * import from "ferry/protocol" as well.
 */
export { Code, codeName, codeToString, codeFromString } from "./rpc/code.js";
export { FerryError, type FerryErrorOptions } from "./rpc/ferry-error.js";
export { Metadata, type MetadataInit, type MetadataValue } from "./rpc/metadata.js";
export { CallContext, ContextValues, createContextKey, currentCallContext, type ContextKey } from "./rpc/call-context.js";
export type { CallOptions } from "./rpc/call-options.js";
export type { AnyRequest, AnyResponse, CallHandler, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from "./rpc/call.js";
export { applyInterceptors, type Interceptor } from "./rpc/interceptor.js";
export { closeClient, createClient, type Client, type ClientOptions } from "./rpc/client.js";
export { createServer, Server, type ServerOptions } from "./rpc/server.js";
export type { ServiceImpl, MethodImpl } from "./rpc/service-impl.js";
export { pushStream, type StreamProducer, type StreamSink } from "./rpc/response-stream.js";
export type { ClientTransport } from "./rpc/client-transport.js";
export type { ListeningAddress, ServerTransport } from "./rpc/server-transport.js";
export { registerTransportScheme, type ClientTransportOptions, type TransportFactory } from "./rpc/transport-registry.js";
export { httpStatusFromCode } from "./rpc/http-status.js";
export { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES } from "./rpc/limits.js";
export * from "./transport/inproc/index.js";
export * from "./transport/grpc/index.js";
import "./transport/nats/index.js";
export type { Logger } from "./util/logger.js";
// Channels: resolvers, balancers, outlier detection, wait-for-ready (docs/channels.md).
export * from "./channel/index.js";
// Discovery: registries and resolvers (docs/discovery.md); also "ferry/registry".
export * from "./registry/index.js";
// Resilience policies and the service config (docs/resilience.md); also "ferry/resilience".
export * from "./resilience/index.js";
// Ferry's native protocol over TCP and Unix sockets (docs/protocol.md).
export * from "./transport/native/index.js";
