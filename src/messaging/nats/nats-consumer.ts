import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { Code } from "../../rpc/code.js";
import type { Logger } from "../../util/logger.js";
import type { AdapterConsumer, ConsumerBacklog, ConsumerSpec, DeliverySink, RawDelivery } from "../adapter.js";
import { fromNatsHeaders } from "./nats-headers.js";
import { chunksHeader, type NatsLargePayloads } from "./nats-large-payloads.js";

/** Options of a {@link NatsConsumer}. */
export interface NatsConsumerOptions {
  /** How long one pull request waits for messages, in ms (JetStream `expires`). */
  readonly fetchExpiresMs: number;
  readonly logger: Logger;
  /** Loads payloads stored in chunks (messages with `ferry-nats-chunks`). */
  readonly largePayloads: NatsLargePayloads;
}

/**
 * One subscription's reader of a durable JetStream pull consumer (the
 * consumer group). It pulls at most as many messages as it has free prefetch
 * slots, so a member never holds more than `prefetch` unsettled messages and
 * the rest of the group can take the others. Pull errors (a server restart,
 * a lost connection) are retried with a short backoff while the client
 * reconnects; unsettled messages come back after `ack_wait`.
 */
export class NatsConsumer implements AdapterConsumer {
  readonly #consumer: Consumer;
  readonly #spec: ConsumerSpec;
  readonly #sink: DeliverySink;
  readonly #options: NatsConsumerOptions;
  #taken = 0;
  #stopped = false;
  #batch: ConsumerMessages | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();

  constructor(consumer: Consumer, spec: ConsumerSpec, sink: DeliverySink, options: NatsConsumerOptions) {
    this.#consumer = consumer;
    this.#spec = spec;
    this.#sink = sink;
    this.#options = options;
  }

  /** Starts the pull loop. */
  start(): void {
    this.#loop = this.#run();
  }

  /** JetStream's own counts for the durable consumer: `num_pending` and `num_ack_pending`. */
  async backlog(): Promise<ConsumerBacklog> {
    const info = await this.#consumer.info();
    return { pending: info.num_pending, unacked: info.num_ack_pending };
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      const free = this.#spec.prefetch - this.#taken;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      try {
        this.#batch = await this.#consumer.fetch({ max_messages: free, expires: this.#options.fetchExpiresMs });
        for await (const m of this.#batch) {
          if (this.#stopped) m.nak();
          else await this.#deliver(m);
        }
        failures = 0;
      } catch (err) {
        if (this.#stopped) break;
        failures++;
        if (failures === 1 || failures % 20 === 0) this.#options.logger.warn({ err, topic: this.#spec.topic, group: this.#spec.group }, "JetStream pull failed; retrying");
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * failures)));
      } finally {
        this.#batch = undefined;
      }
    }
  }

  async #deliver(m: JsMsg): Promise<void> {
    const headers = fromNatsHeaders(m.headers);
    let payload = m.data;
    const chunks = headers[chunksHeader];
    if (chunks !== undefined) {
      try {
        payload = await this.#options.largePayloads.load(chunks);
        delete headers[chunksHeader];
      } catch (err) {
        // Chunks that are gone never come back: stop redelivering (TERM) and say so; otherwise retry later.
        const gone = (err as { code?: unknown }).code === Code.DATA_LOSS;
        this.#options.logger.error({ err, topic: m.subject, sequence: m.seq }, gone ? "payload chunks lost; message terminated" : "cannot load payload chunks; retrying");
        if (gone) m.term();
        else m.nak(1000);
        return;
      }
    }
    this.#taken++;
    let settled = false;
    const settle = (op: () => void): Promise<void> => {
      if (settled) return Promise.resolve();
      settled = true;
      this.#taken--;
      this.#wake?.();
      this.#wake = undefined;
      op();
      return Promise.resolve();
    };
    const delivery: RawDelivery = {
      topic: m.subject,
      payload,
      headers,
      sequence: String(m.seq),
      deliveryAttempt: m.info.deliveryCount,
      publishTimeMs: Math.floor(m.info.timestampNanos / 1_000_000),
      ack: () => settle(() => m.ack()),
      nack: (delayMs) => settle(() => (delayMs > 0 ? m.nak(delayMs) : m.nak())),
      extend: async () => {
        if (!settled) m.working();
      },
    };
    this.#sink.deliver(delivery);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.#batch?.stop();
    await this.#loop;
  }

  async close(): Promise<void> {
    await this.stop();
  }
}
