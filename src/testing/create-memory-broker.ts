import { randomUUID } from "node:crypto";
import { createBroker, type Broker, type BrokerOptions } from "../messaging/broker.js";

/** Options of {@link createMemoryBroker}. */
export interface MemoryBrokerOptions extends BrokerOptions {
  /**
   * The store's name: brokers made with the same name share topics, consumer
   * groups and stored messages, as two processes share one real broker
   * (`memory:NAME`). Default: a fresh name, so each call gets its own broker.
   */
  name?: string;
}

/**
 * A broker on the embedded in-memory adapter (`memory:`), with the same
 * delivery semantics as the real brokers: consumer groups, ack/nack,
 * redelivery with backoff, max deliveries, dead-letter and replay. Close it
 * (or `await using`) at the end of a test.
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): Promise<Broker> {
  const { name = `test-${randomUUID()}`, ...brokerOptions } = options;
  return createBroker(`memory:${encodeURIComponent(name)}`, brokerOptions);
}
