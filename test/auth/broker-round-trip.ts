import { createBroker, defineTopic } from "../../src/messaging/index.js";
import { Schema } from "../messaging/conformance-helpers.js";

/** A logger that drops everything. */
export const quiet = { error() {}, warn() {}, info() {}, debug() {} };

/** Publishes one message and reads it back through a consumer group: the connection really works. */
export async function roundTrip(url: string, adapterOptions: Record<string, unknown> = {}): Promise<string> {
  const broker = await createBroker(url, { logger: quiet, adapterOptions });
  try {
    const topic = defineTopic(`ferry.tls.${Math.random().toString(36).slice(2)}`, Schema);
    let received: (text: string) => void = () => {};
    const got = new Promise<string>((resolve) => (received = resolve));
    const sub = await broker.subscribe(topic, { group: "tls", ackTimeoutMs: 5_000 }, (m) => received(m.text));
    await broker.publish(topic, { text: "over the wire" });
    const text = await got;
    await sub.stop();
    return text;
  } finally {
    await broker.close();
  }
}
