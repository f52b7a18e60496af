import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type {
  AdapterCapabilities,
  AdapterConsumer,
  AdapterFactory,
  BrokerAdapter,
  ConsumerSpec,
  DeliverySink,
  OutgoingRecord,
  PublishReceipt,
} from "../adapter.js";
import { MemoryConsumer } from "./memory-consumer.js";
import { memoryStore, type MemoryStore } from "./memory-store.js";

/**
 * Options of the `memory:` broker (`BrokerOptions.adapterOptions`). They take
 * effect when the first client of a given name creates its store.
 */
export interface MemoryAdapterOptions {
  /** Messages kept in the process (oldest dropped beyond). Defaults to 100000. */
  maxStoredMessages?: number;
  /** Largest message (payload plus headers), in bytes. Defaults to 8 MiB. */
  maxMessageBytes?: number;
  /** De-duplication window for message ids, in ms. Defaults to 120000 (JetStream's default). */
  duplicateWindowMs?: number;
}

/**
 * The embedded broker: `memory:` (or `memory:<name>` for a separate one).
 * Every client of the same name in the process shares one store, so services
 * running in one process exchange messages; nothing survives the process.
 * Same delivery semantics as the real brokers: consumer groups, at-least-once
 * with ack timeouts, delayed nack, de-duplication, replay by sequence and time,
 * wildcards.
 */
export class MemoryAdapter implements BrokerAdapter {
  readonly name = "memory";
  readonly capabilities: AdapterCapabilities;
  readonly #store: MemoryStore;
  readonly #consumers = new Set<MemoryConsumer>();

  constructor(store: MemoryStore, maxMessageBytes: number) {
    this.#store = store;
    this.capabilities = Object.freeze({
      deduplication: true,
      wildcards: true,
      delayedNack: true,
      replayBySequence: true,
      replayByTime: true,
      replayFromBeginning: true,
      durable: false,
      maxMessageBytes,
    });
  }

  async publish(record: OutgoingRecord): Promise<PublishReceipt> {
    const size = record.payload.byteLength + headerBytes(record.headers);
    if (size > this.capabilities.maxMessageBytes) {
      throw new FerryError(Code.RESOURCE_EXHAUSTED, `message of ${size} bytes exceeds the memory broker's limit of ${this.capabilities.maxMessageBytes} bytes`);
    }
    const { sequence, duplicate } = this.#store.append(record.topic, record.payload, record.headers, record.dedupId);
    return { sequence: String(sequence), duplicate };
  }

  async consume(spec: ConsumerSpec, sink: DeliverySink): Promise<AdapterConsumer> {
    if (spec.startAt.kind === "sequence" && !/^[1-9][0-9]*$/.test(spec.startAt.sequence)) {
      throw new FerryError(Code.INVALID_ARGUMENT, `startAt.sequence "${spec.startAt.sequence}" is not a memory broker sequence (a positive integer)`);
    }
    const consumer = new MemoryConsumer(this.#store.group(spec.topic, spec.group, spec.startAt), spec, sink);
    this.#consumers.add(consumer);
    consumer.start();
    return {
      stop: () => consumer.stop(),
      close: async () => {
        await consumer.close();
        this.#consumers.delete(consumer);
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.close()));
    this.#consumers.clear();
  }
}

function headerBytes(headers: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers)) n += k.length + v.length;
  return n;
}

/** Creates the adapter for a `memory:` URL. */
export const adapterFactory: AdapterFactory = async (url, options) => {
  const o = options.adapterOptions as MemoryAdapterOptions;
  const maxMessageBytes = o.maxMessageBytes ?? 8 * 1024 * 1024;
  const store = memoryStore(url.pathname, {
    maxStoredMessages: o.maxStoredMessages ?? 100_000,
    duplicateWindowMs: o.duplicateWindowMs ?? 120_000,
  });
  return new MemoryAdapter(store, maxMessageBytes);
};
