/**
 * `ferry/testing`: what a user's own tests need to exercise Ferry services
 * without sockets or infrastructure — an in-process client for a service
 * implementation, the in-process transport, the in-memory broker (same
 * delivery semantics as the real ones: consumer groups, ack/nack,
 * redelivery, dead-letter, replay) and the in-memory registry.
 */
import "../transport/inproc/index.js";

export { createTestClient, type TestClient, type TestClientOptions } from "./create-test-client.js";
export { createInProcessTransport } from "../transport/inproc/inproc-transport.js";
export { createMemoryBroker, type MemoryBrokerOptions } from "./create-memory-broker.js";
export { createMemoryRegistry, MemoryRegistry, type MemoryRegistryOptions } from "../registry/memory-registry.js";
