/**
 * Brokers for the relay tests: a memory broker whose publishes can be made
 * to fail (a broker outage, without stopping a real service), and helpers
 * that collect what a consumer group receives.
 */
import { randomBytes } from "node:crypto";
import { BrokerClient, createBroker, type Broker } from "../../src/messaging/broker.js";
import { defineTopic } from "../../src/messaging/topic.js";
import type { BrokerAdapter } from "../../src/messaging/adapter.js";
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { EchoRequestSchema } from "../gen/ferry/test/v1/echo_pb.js";

/** A broker whose publishes fail with UNAVAILABLE while `down` is true. */
export interface FlakyBroker {
  readonly broker: Broker;
  /** While true, every publish fails. */
  down: boolean;
  /** How many publishes were attempted (failed ones included). */
  attempts: number;
}

/** A fresh memory broker of its own name, with an outage switch. */
export async function flakyMemoryBroker(): Promise<FlakyBroker> {
  const inner = (await createBroker(`memory:${randomBytes(4).toString("hex")}`)) as BrokerClient;
  const adapter: BrokerAdapter = inner.adapter;
  const state: FlakyBroker = { broker: undefined as unknown as Broker, down: false, attempts: 0 };
  const flaky: BrokerAdapter = {
    name: adapter.name,
    capabilities: adapter.capabilities,
    publish: async (record) => {
      state.attempts++;
      if (state.down) throw new FerryError(Code.UNAVAILABLE, "broker outage (test)");
      return adapter.publish(record);
    },
    consume: (spec, sink) => adapter.consume(spec, sink),
    close: () => adapter.close(),
  };
  (state as { broker: Broker }).broker = new BrokerClient(flaky, { error() {}, warn() {}, info() {}, debug() {} });
  return state;
}

/** A topic of EchoRequest messages with a unique root, `ferry-test.<random>.events`. */
export function testTopic(root = `ferry-test-${randomBytes(4).toString("hex")}`) {
  return defineTopic(`${root}.events`, EchoRequestSchema);
}

/** What a consumer group received: message text and the delivery's id, key and attempt. */
export interface Received {
  readonly text: string;
  readonly messageId: string;
  readonly orderingKey: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

/** Subscribes `group` and pushes every delivery into the returned array. */
export async function collect(broker: Broker, topic: ReturnType<typeof testTopic>, group: string): Promise<{ received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const sub = await broker.subscribe(topic, { group, startAt: "beginning", ackTimeoutMs: 2000 }, (m, d) => {
    received.push({ text: m.text, messageId: d.messageId, orderingKey: d.orderingKey, headers: d.headers });
  });
  return { received, stop: () => sub.stop() };
}
