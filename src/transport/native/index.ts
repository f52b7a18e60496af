export { createNativeTransport, type NativeClientOptions } from "./native-client-transport.js";
export { createNativeServerTransport, DEFAULT_NATIVE_PORT, type NativeServerOptions } from "./native-server-transport.js";
