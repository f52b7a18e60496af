import type { Broker } from "../../src/messaging/index.js";
import type { MessagingContender, MessagingSession, OpenOptions } from "./contender.js";
import { AMQP_URL, deleteAmqp, deleteNatsStreams, deleteRedisKeys, NATS_SERVERS, REDIS_URL } from "./broker-cleanup.js";

/** The consumer group every benchmark session uses. */
export const GROUP = "bench";

/** Where one Ferry session points, and how to delete what it created. */
interface FerryTarget {
  readonly url: string;
  cleanup(): Promise<void>;
}

// Ferry's modules load when a Ferry contender runs, so the RPC suite does not depend on src/messaging.
async function targetFor(adapter: string, suffix: string, topic: string): Promise<FerryTarget> {
  const { natsStreamName } = await import("../../src/messaging/nats/nats-topology.js");
  const { queueNameFor } = await import("../../src/messaging/amqp/amqp-topology.js");
  switch (adapter) {
    case "memory":
      return { url: `memory:bench-${suffix}`, cleanup: async () => {} };
    case "nats":
      return { url: `nats://${NATS_SERVERS}`, cleanup: () => deleteNatsStreams([natsStreamName(topic)]) };
    case "amqp": {
      const exchange = `ferry-bench-${suffix}`;
      return { url: `${AMQP_URL}?exchange=${exchange}`, cleanup: () => deleteAmqp(exchange, [queueNameFor(exchange, GROUP, topic)]) };
    }
    case "redis": {
      const keyPrefix = `ferry-bench-${suffix}:`;
      return { url: `${REDIS_URL}?keyPrefix=${keyPrefix}`, cleanup: () => deleteRedisKeys([`${keyPrefix}${topic}`]) };
    }
    default:
      throw new Error(`unknown adapter "${adapter}"`);
  }
}

/**
 * Ferry's messaging API on one adapter with default options: `createBroker(url)`,
 * a topic of `ferry.test.v1.EchoRequest` (the 100-byte payload in `payload`),
 * `publish` awaited for the broker's confirmation, one subscription in group
 * `bench` (defaults: concurrency 1, prefetch 10; the handler returns → ack).
 */
async function openFerry(adapter: string, options: OpenOptions): Promise<MessagingSession> {
  const { createBroker, defineTopic } = await import("../../src/messaging/index.js");
  const { EchoRequestSchema } = await import("../../test/gen/ferry/test/v1/echo_pb.js");
  const topic = defineTopic(`bench${options.suffix}.msg`, EchoRequestSchema);
  const target = await targetFor(adapter, options.suffix, topic.name);
  let broker: Broker | undefined;
  try {
    broker = await createBroker(target.url);
    const onMessage = options.onMessage;
    const subscription = await broker.subscribe(topic, { group: GROUP }, (msg) => onMessage?.(msg.payload));
    if (onMessage === undefined) await subscription.stop({ timeoutMs: 5000 }); // the group (queue) stays; nothing consumes
  } catch (err) {
    await broker?.close().catch(() => {});
    await target.cleanup().catch(() => {});
    throw err;
  }
  const opened = broker;
  return {
    publish: async (payload) => {
      await opened.publish(topic, { payload });
    },
    close: async () => {
      try {
        await opened.close();
      } finally {
        await target.cleanup();
      }
    },
  };
}

/** `ferry-<adapter>` for memory, nats, amqp and redis. */
export function ferryContender(adapter: string, reference: string | undefined): MessagingContender {
  return {
    name: `ferry-${adapter}`,
    adapter,
    reference,
    description: `Ferry \`createBroker\` on the \`${adapter}\` adapter, default options`,
    open: (options) => openFerry(adapter, options),
  };
}
