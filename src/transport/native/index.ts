/**
 * Ferry's native protocol over TCP, TLS and Unix sockets (docs/protocol.md),
 * also served as `ferry/transport/native`. Importing it registers the
 * `native://`, `natives://` and `native+unix://` schemes.
 */
import { registerTransportScheme } from "../../rpc/transport-registry.js";

const loadNativeScheme = () => import("./native-scheme.js").then((m) => m.nativeScheme);
registerTransportScheme("native", loadNativeScheme);
registerTransportScheme("natives", loadNativeScheme);
registerTransportScheme("native+unix", () => import("./native-scheme.js").then((m) => m.nativeUnixScheme));

export { createNativeTransport, type NativeClientOptions } from "./native-client-transport.js";
export { createNativeServerTransport, DEFAULT_NATIVE_PORT, type NativeServerOptions, type NativeServerTransport } from "./native-server-transport.js";
export { peerCertificate, type PeerCertificateInfo } from "../peer-certificate.js";
