/**
 * Ferry's gRPC transport (gRPC over HTTP/2, h2c and TLS), also served as
 * `ferry/transport/grpc`. Importing it registers the `grpc://` and `grpcs://`
 * schemes for client targets and `Server.listen`.
 */
import { registerTransportScheme } from "../../rpc/transport-registry.js";

const loadGrpcScheme = () => import("./grpc-scheme.js").then((m) => m.grpcScheme);
registerTransportScheme("grpc", loadGrpcScheme);
registerTransportScheme("grpcs", loadGrpcScheme);

export { createGrpcTransport, type GrpcCallOverrides, type GrpcClientOptions, type GrpcTransport } from "./grpc-client-transport.js";
export { SUPPORTED_COMPRESSIONS, type GrpcCompression } from "./grpc-compression.js";
export { grpcResponseCompression, setMessageCompression, wasReceivedCompressed } from "./message-compression.js";
export { createGrpcServerTransport, type GrpcServerOptions, type GrpcServerTransport } from "./grpc-server-transport.js";
export { createThrowawayCa, type IssueOptions, type PemKeyPair, type ThrowawayCa, type ThrowawayCaOptions } from "./throwaway-ca.js";
export { addHealthService, HealthStatus, ServingStatus } from "../../rpc/health-service.js";
export { addReflectionService } from "./reflection-service.js";
export { grpcPeerCertificate } from "./peer-certificate.js";
