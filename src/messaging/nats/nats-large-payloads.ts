import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { natsError } from "./nats-errors.js";
import { streamRoot, type NatsStreamDefaults } from "./nats-topology.js";

/** Header on a message whose payload is stored in chunks: `<seq>,<seq>,…;<total bytes>`. */
export const chunksHeader = "ferry-nats-chunks";

/** The stream holding payload chunks of every topic. */
export const chunkStreamName = "FERRY_CHUNKS";

/** The chunk subject of `topic`'s root. */
export function chunkSubject(topic: string): string {
  return `ferry-chunks.${streamRoot(topic).replace(/\./g, "_")}`;
}

/**
 * Payloads larger than the server's `max_payload` (1 MiB by default,
 * headers included, settable only in the server's config file), stored as a
 * claim check: the payload goes in chunks to the stream `FERRY_CHUNKS`
 * (each confirmed by a PubAck, de-duplicated by `<dedupId>.<n>`), and the
 * message itself carries only their sequences in `ferry-nats-chunks`.
 * Consumers fetch the chunks by sequence (`STREAM.MSG.GET`) before the
 * handler runs. Chunks age out with the stream settings' `maxAgeMs`.
 */
export class NatsLargePayloads {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #settings: NatsStreamDefaults;
  readonly #chunkBytes: number;
  #ready: Promise<void> | undefined;

  constructor(init: { js: JetStreamClient; jsm: JetStreamManager; settings: NatsStreamDefaults; chunkBytes: number }) {
    this.#js = init.js;
    this.#jsm = init.jsm;
    this.#settings = init.settings;
    this.#chunkBytes = init.chunkBytes;
  }

  /** Stores `payload` in chunks; returns the `ferry-nats-chunks` header value. */
  async store(topic: string, payload: Uint8Array, dedupId: string | undefined, timeoutMs: number): Promise<string> {
    await this.#ensureStream();
    const seqs: number[] = [];
    for (let offset = 0, n = 0; offset < payload.byteLength; offset += this.#chunkBytes, n++) {
      const chunk = payload.subarray(offset, offset + this.#chunkBytes);
      try {
        const ack = await this.#js.publish(chunkSubject(topic), chunk, { msgID: dedupId === undefined ? undefined : `${dedupId}.${n}`, timeout: timeoutMs });
        seqs.push(ack.seq);
      } catch (err) {
        throw natsError(err, `store chunk ${n} of a ${payload.byteLength}-byte payload`);
      }
    }
    return `${seqs.join(",")};${payload.byteLength}`;
  }

  /** Loads the payload a `ferry-nats-chunks` header refers to. Raises DATA_LOSS when chunks are gone, UNAVAILABLE on connection trouble. */
  async load(header: string): Promise<Uint8Array> {
    const [list, totalText] = header.split(";");
    const total = Number(totalText);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const seq of list.split(",").map(Number)) {
      let msg;
      try {
        msg = await this.#jsm.streams.getMessage(chunkStreamName, { seq });
      } catch (err) {
        if (/not found/i.test((err as Error).message)) msg = null;
        else throw natsError(err, `load chunk ${seq}`);
      }
      if (msg === null || offset + msg.data.byteLength > total) {
        throw new FerryError(Code.DATA_LOSS, `payload chunk ${seq} of ${chunkStreamName} is gone (aged out or purged)`);
      }
      out.set(msg.data, offset);
      offset += msg.data.byteLength;
    }
    if (offset !== total) throw new FerryError(Code.DATA_LOSS, `payload chunks hold ${offset} of ${total} bytes`);
    return out;
  }

  #ensureStream(): Promise<void> {
    return (this.#ready ??= this.#createStream().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    }));
  }

  async #createStream(): Promise<void> {
    try {
      await this.#jsm.streams.info(chunkStreamName);
      return;
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw natsError(err, `look up stream ${chunkStreamName}`);
    }
    await this.#jsm.streams
      .add({
        name: chunkStreamName,
        subjects: ["ferry-chunks.>"],
        max_age: this.#settings.maxAgeMs * 1_000_000,
        duplicate_window: this.#settings.duplicateWindowMs * 1_000_000,
        num_replicas: this.#settings.replicas,
      })
      .catch((err: unknown) => {
        if (!/already in use/i.test((err as Error).message)) throw natsError(err, `create stream ${chunkStreamName}`);
      });
  }
}
