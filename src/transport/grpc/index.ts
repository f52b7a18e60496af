export { createGrpcTransport, type GrpcClientOptions } from "./grpc-client-transport.js";
export { createGrpcServerTransport, type GrpcServerOptions } from "./grpc-server-transport.js";
