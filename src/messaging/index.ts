/**
 * Ferry messaging: typed topics, broker-neutral publish/subscribe with
 * consumer groups, retries, dead-letter and replay, on `memory:`, `nats://`,
 * `amqp://` and `redis://` brokers. See docs/messaging.md.
 * @packageDocumentation
 */
export { defineTopic, type Topic, type TopicOptions, type TopicMessage } from "./topic.js";
export { createBroker, type Broker, type BrokerOptions, type PublishOptions, type PublishResult } from "./broker.js";
export type { SubscribeOptions, StartAt } from "./subscribe-options.js";
export type { BackoffOptions } from "./backoff.js";
export type { Delivery, MessageHandler } from "./delivery.js";
export type { Subscription, StopOptions } from "./subscription-runner.js";
export type { RedriveOptions, RedriveResult } from "./redrive.js";
export { FerryHeader } from "./headers.js";
export { registerBrokerScheme } from "./adapter-registry.js";
export type { AdapterCapabilities } from "./adapter.js";
