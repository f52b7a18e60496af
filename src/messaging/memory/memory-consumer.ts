import type { AdapterConsumer, ConsumerSpec, DeliverySink, RawDelivery } from "../adapter.js";
import type { MemoryGroup } from "./memory-group.js";
import type { MemoryEntry } from "./memory-store.js";

/** One subscription's membership in a {@link MemoryGroup}, with its prefetch slots. */
export class MemoryConsumer implements AdapterConsumer {
  readonly #group: MemoryGroup;
  readonly #spec: ConsumerSpec;
  readonly #sink: DeliverySink;
  #taken = 0;
  #stopped = false;
  #closed = false;

  constructor(group: MemoryGroup, spec: ConsumerSpec, sink: DeliverySink) {
    this.#group = group;
    this.#spec = spec;
    this.#sink = sink;
  }

  get ackTimeoutMs(): number {
    return this.#spec.ackTimeoutMs;
  }

  /** Starts the pull loop. */
  start(): void {
    this.#group.join(this);
  }

  hasFreeSlot(): boolean {
    return !this.#stopped && this.#taken < this.#spec.prefetch;
  }

  /** Called by the group when one of this member's deliveries was settled or taken back. */
  released(): void {
    this.#taken--;
  }

  deliver(entry: MemoryEntry, attempt: number, token: number): void {
    this.#taken++;
    const group = this.#group;
    const ackTimeoutMs = this.#spec.ackTimeoutMs;
    const delivery: RawDelivery = {
      topic: entry.topic,
      payload: entry.payload,
      headers: entry.headers,
      sequence: String(entry.sequence),
      deliveryAttempt: attempt,
      publishTimeMs: entry.timeMs,
      ack: async () => group.settle(entry.sequence, token, undefined),
      nack: async (delayMs) => group.settle(entry.sequence, token, delayMs),
      extend: async () => group.extend(entry.sequence, token, ackTimeoutMs),
    };
    // Hand over after the group's dispatch round, so that a message settled at once (nack(0)) is not redelivered within the same round.
    queueMicrotask(() => this.#sink.deliver(delivery));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopped = true;
    this.#group.leave(this);
  }
}
