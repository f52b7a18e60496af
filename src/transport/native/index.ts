export { createNativeTransport, type NativeClientOptions } from "./native-client-transport.js";
export { createNativeServerTransport, DEFAULT_NATIVE_PORT, type NativeServerOptions, type NativeServerTransport } from "./native-server-transport.js";
export { peerCertificate, type PeerCertificateInfo } from "../peer-certificate.js";
