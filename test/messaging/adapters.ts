/**
 * The adapters the messaging conformance suite runs against. To add one,
 * append an entry: its URL, the service it needs (checked with
 * test/support/services.ts: skipped with a reason locally, a failure with
 * FERRY_REQUIRE_SERVICES=1), the cases it cannot pass with the documented
 * reason (the same reason as in docs/messaging.md's capability table), and a
 * cleanup that removes what a test run created under a topic root.
 */
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { natsStreamName } from "../../src/messaging/nats/nats-topology.js";
import { chunkStreamName, chunkSubject } from "../../src/messaging/nats/nats-large-payloads.js";
import { randomBytes } from "node:crypto";
import { brokerBinaries, startPrivateNats, startPrivateRabbitmq, startPrivateRedis, type PrivateBroker } from "./private-brokers.js";

/** Every case of the suite; `skips` keys name them. */
export type ConformanceCase =
  | "publish-confirm"
  | "fan-out"
  | "competing-consumers"
  | "per-key-order"
  | "per-key-order-with-retries"
  | "crash-redelivery"
  | "dead-letter"
  | "replay-beginning"
  | "replay-sequence"
  | "replay-time"
  | "redrive"
  | "large-message"
  | "oversize"
  | "undecodable"
  | "wildcard"
  | "header-filter"
  | "deduplication"
  | "graceful-stop"
  | "context-headers"
  | "ack-extension"
  | "broker-restart";

/** One adapter under test. */
export interface ConformanceAdapter {
  /** Shown in test names. */
  readonly name: string;
  /** The broker URL given to createBroker. */
  readonly url: string;
  /** The service to check before running (undefined: embedded, always there). */
  readonly service: { readonly name: string; readonly host: string; readonly port: number } | undefined;
  /** Adapter options for createBroker. */
  readonly adapterOptions?: Readonly<Record<string, unknown>>;
  /** Cases skipped on this adapter, each with the reason (a broker limitation, never "not done yet" without saying so). */
  readonly skips: Partial<Record<ConformanceCase, string>>;
  /**
   * Starts a broker process of the test's own (for "broker-restart"): its URL
   * (with this adapter's URL options), a restart and a stop that signal only
   * that process. Undefined when the adapter has no broker process to restart.
   */
  readonly isolatedBroker?: () => Promise<PrivateBroker>;
  /** The broker binary `isolatedBroker` starts (checked before running). */
  readonly brokerBinary?: string;
  /** Removes what the tests created under topic root `root` (streams, queues, keys); also for `dead-letter.<root>`. */
  cleanup(root: string): Promise<void>;
}

const natsUrl = "nats://127.0.0.1:4222";
/** `broker` with `query` appended to its URL (the adapter's URL options). */
const withQuery = (broker: PrivateBroker, query: string): PrivateBroker => ({ ...broker, url: `${broker.url}?${query}` });
/** A unique exchange per test process, deleted by the amqp cleanup. */
const amqpExchange = `ferry-conf-${randomBytes(3).toString("hex")}`;

export const conformanceAdapters: ConformanceAdapter[] = [
  {
    name: "memory",
    url: "memory:conformance",
    service: undefined,
    skips: {
      "crash-redelivery": "the memory broker lives inside one process: a killed consumer process takes its broker with it",
      "broker-restart": "the memory broker has no separate service to restart",
    },
    cleanup: async () => {},
  },
  {
    name: "nats",
    url: natsUrl,
    service: { name: "NATS", host: "127.0.0.1", port: 4222 },
    skips: {},
    isolatedBroker: startPrivateNats,
    brokerBinary: brokerBinaries.nats,
    cleanup: async (root) => {
      const nc = await connect({ servers: "127.0.0.1:4222" });
      try {
        const jsm = await jetstreamManager(nc);
        for (const name of [natsStreamName(root), natsStreamName(`dead-letter.${root}`)]) {
          await jsm.streams.delete(name).catch(() => false);
        }
        await jsm.streams.purge(chunkStreamName, { filter: chunkSubject(root) }).catch(() => undefined);
      } finally {
        await nc.close();
      }
    },
  },
  {
    name: "amqp",
    url: `amqp://guest:guest@127.0.0.1:5672?exchange=${amqpExchange}`,
    service: { name: "RabbitMQ", host: "127.0.0.1", port: 5672 },
    skips: {
      "replay-beginning": "RabbitMQ queues delete acked messages and a new group's queue only receives what is published after it is bound (streams, which replay, have no consumer groups over AMQP 0-9-1)",
      "replay-sequence": "RabbitMQ queues have no positions to start from (see replay-beginning)",
      "replay-time": "RabbitMQ queues cannot start from a time (see replay-beginning)",
      deduplication: "RabbitMQ has no broker-side de-duplication (only a third-party plugin)",
    },
    isolatedBroker: async () => withQuery(await startPrivateRabbitmq(), `exchange=${amqpExchange}`),
    brokerBinary: brokerBinaries.rabbitmq,
    cleanup: async (root) => (await import("./amqp-service.js")).cleanupAmqp(amqpExchange, root, true),
  },
  {
    name: "redis",
    url: "redis://127.0.0.1:6379?keyPrefix=ferry-conf:",
    service: { name: "Redis", host: "127.0.0.1", port: 6379 },
    skips: {
      wildcard: "Redis Streams read named streams only: one stream per topic, no pattern subscriptions",
      deduplication: "XADD has no idempotency key (before Redis 8.2's IDMP)",
    },
    // The restart case runs on a redis-server of its own with an append-only file (the machine's runs without persistence).
    isolatedBroker: async () => withQuery(await startPrivateRedis(), "keyPrefix=ferry-conf:"),
    brokerBinary: brokerBinaries.redis,
    cleanup: async (root) => (await import("./redis-service.js")).cleanupRedis("ferry-conf:", root),
  },
];
