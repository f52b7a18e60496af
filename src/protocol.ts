/**
 * `ferry/protocol`: what transport authors need, beside the end-user API of
 * `ferry`. A transport implements {@link ClientTransport} and/or
 * {@link ServerTransport}, dispatches server calls through the server's
 * {@link Router}, and registers its URL scheme with
 * {@link registerTransportScheme}. See docs/transports.md.
 */
export type { AnyRequest, AnyResponse, CallHandler, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from "./rpc/call.js";
export type { ClientTransport } from "./rpc/client-transport.js";
export type { ListeningAddress, ServerTransport } from "./rpc/server-transport.js";
export { registerTransportScheme, clientTransportFromUrl, serverTransportFromUrl, type TransportFactory, type ClientTransportOptions } from "./rpc/transport-registry.js";
export { Router } from "./rpc/router.js";
export { methodInfo, type MethodInfo } from "./contract/method-info.js";
export { codeFromNumber } from "./rpc/code.js";
export { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES } from "./rpc/limits.js";
export { encodeGrpcTimeout, parseGrpcTimeout } from "./rpc/grpc-timeout.js";
export type { MethodEntry, RouterOptions } from "./rpc/router.js";
export type { MethodKind } from "./contract/method-info.js";
export { decodeBinary, decodeJson, encodeBinary, encodeJson, toMessage, type JsonCodecOptions } from "./contract/codec.js";
