import type { AdapterConsumer, BrokerAdapter, RawDelivery } from "../messaging/adapter.js";
import { FerryHeader, withoutDeadLetterHeaders } from "../messaging/headers.js";
import { redriveGroupName } from "../messaging/redrive.js";
import { FerryError } from "../rpc/ferry-error.js";
import { releaseDelayMs } from "./broker-connection.js";

/** The scan ends once no dead letter arrived for this long, in ms (and not before `releaseDelayMs` plus this long). */
export const SCAN_IDLE_MS = 1500;
/** Letters held unacked during a scan are redelivered by the broker after this long, in ms (the library re-drive's value). */
const SCAN_ACK_TIMEOUT_MS = 30_000;

/** One dead letter as `ferry dlq list` shows it (the `ferry-dead-letter-*` headers, read). */
export interface DeadLetter {
  /** The letter as delivered from the dead-letter topic (payload unchanged, every header). */
  readonly delivery: RawDelivery;
  /** The original message id (`ferry-message-id`). */
  readonly messageId: string;
  /** The consumer group that gave up on it. */
  readonly group: string;
  /** The topic it was dead-lettered from (re-drive publishes it back there). */
  readonly sourceTopic: string;
  /** Deliveries attempted before it was dead-lettered. */
  readonly attempts: number | undefined;
  /** Status code name of the last failure (`INTERNAL`, `DATA_LOSS`, …). */
  readonly code: string;
  /** The last failure's message. */
  readonly reason: string;
  /** When it was dead-lettered (ms since the epoch), if recorded. */
  readonly deadLetteredAtMs: number | undefined;
}

/** Reads the `ferry-dead-letter-*` headers of a delivery from a dead-letter topic. */
function readLetter(d: RawDelivery, fallbackTopic: string): DeadLetter {
  const h = d.headers;
  const attempts = Number(h[FerryHeader.deadLetterAttempts]);
  const time = Number(h[FerryHeader.deadLetterTime]);
  return {
    delivery: d,
    messageId: h[FerryHeader.messageId] ?? "",
    group: h[FerryHeader.deadLetterGroup] ?? "",
    sourceTopic: h[FerryHeader.deadLetterTopic] ?? fallbackTopic,
    attempts: Number.isFinite(attempts) ? attempts : undefined,
    code: h[FerryHeader.deadLetterCode] ?? "",
    reason: h[FerryHeader.deadLetterReason] ?? "",
    deadLetteredAtMs: Number.isFinite(time) ? time : undefined,
  };
}

/**
 * A look at a topic's dead letters through the re-drive reader: the consumer
 * group `ferry-redrive` on the dead-letter topic, the one `broker.redrive(topic)`
 * uses (on RabbitMQ the only queue guaranteed to hold every dead letter).
 * Letters are received and held unsettled until the topic is drained
 * (nothing new for {@link SCAN_IDLE_MS}) or `maxLetters` are held; then the
 * caller moves some back ({@link redriveLetter}) and {@link close} returns
 * the rest to the reader unchanged, so a later scan or re-drive sees them again.
 */
export class DeadLetterScan {
  readonly letters: DeadLetter[] = [];
  readonly #adapter: BrokerAdapter;
  readonly #deadLetterTopic: string;
  readonly #sourceTopic: string;
  readonly #settled = new Set<RawDelivery>();
  /** Deliveries that arrived after the scan ended (beyond `maxLetters`): returned unseen. */
  readonly #late: RawDelivery[] = [];
  #consumer: AdapterConsumer | undefined;
  #full = false;

  private constructor(adapter: BrokerAdapter, sourceTopic: string, deadLetterTopic: string) {
    this.#adapter = adapter;
    this.#sourceTopic = sourceTopic;
    this.#deadLetterTopic = deadLetterTopic;
  }

  /** True when the scan stopped at `maxLetters` (more letters may wait). */
  get full(): boolean {
    return this.#full;
  }

  /**
   * Receives the letters of `deadLetterTopic` (those of `sourceTopic`).
   * Rejects with the adapter's error (UNAVAILABLE when the broker fails).
   */
  static async open(adapter: BrokerAdapter, sourceTopic: string, deadLetterTopic: string, maxLetters: number): Promise<DeadLetterScan> {
    const scan = new DeadLetterScan(adapter, sourceTopic, deadLetterTopic);
    try {
      await scan.#receive(maxLetters);
    } catch (err) {
      await scan.close();
      throw err;
    }
    return scan;
  }

  async #receive(maxLetters: number): Promise<void> {
    // Letters an earlier scan returned with a delay (releaseDelayMs) must have had time to come back.
    const earliestEndMs = Date.now() + releaseDelayMs(this.#adapter) + SCAN_IDLE_MS;
    let idle: NodeJS.Timeout | undefined;
    let finish: (err?: unknown) => void = () => {};
    const drained = new Promise<void>((resolve, reject) => (finish = (err) => (clearTimeout(idle), err === undefined ? resolve() : reject(err))));
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(), Math.max(SCAN_IDLE_MS, earliestEndMs - Date.now()));
    };
    let ended = false;
    const deliver = (d: RawDelivery): void => {
      if (ended) return void this.#late.push(d);
      if (this.letters.some((l) => l.delivery.sequence !== "" && l.delivery.sequence === d.sequence)) return; // a redelivery of one we hold
      this.letters.push(readLetter(d, this.#sourceTopic));
      if (this.letters.length >= maxLetters) {
        this.#full = true;
        ended = true;
        finish();
      } else touch();
    };
    const spec = {
      topic: this.#deadLetterTopic,
      group: redriveGroupName(undefined),
      startAt: { kind: "beginning" as const },
      prefetch: maxLetters,
      ackTimeoutMs: SCAN_ACK_TIMEOUT_MS,
      maxDeliveries: Number.MAX_SAFE_INTEGER,
    };
    this.#consumer = await this.#adapter.consume(spec, { deliver, error: (err) => finish(FerryError.from(err)) });
    touch();
    try {
      await drained;
    } finally {
      ended = true;
      await this.#consumer.stop();
    }
  }

  /**
   * Publishes `letter` back to its source topic with its payload, message id
   * and headers minus the dead-letter ones, plus `ferry-redrive-group` (only
   * the group that gave up handles it again), then acks it in the reader:
   * what `broker.redrive` does to each letter, with the same de-duplication key.
   */
  async redriveLetter(letter: DeadLetter): Promise<void> {
    const d = letter.delivery;
    const headers = withoutDeadLetterHeaders(d.headers);
    if (letter.group !== "") headers[FerryHeader.redriveGroup] = letter.group;
    await this.#adapter.publish({
      topic: letter.sourceTopic,
      payload: d.payload,
      headers,
      messageId: letter.messageId,
      dedupId: `redrive.${this.#deadLetterTopic}.${d.sequence || letter.messageId}`,
      orderingKey: d.headers[FerryHeader.orderingKey],
    });
    this.#settled.add(d);
    await d.ack();
  }

  /**
   * Returns every letter not re-driven to the reader (nack, with
   * `releaseDelayMs`: on NATS they are back 2 s later) and releases the
   * consumer. Never rejects.
   */
  async close(): Promise<void> {
    const rest = [...this.letters.map((l) => l.delivery).filter((d) => !this.#settled.has(d)), ...this.#late];
    const delayMs = releaseDelayMs(this.#adapter);
    await Promise.allSettled(rest.map((d) => d.nack(delayMs)));
    await this.#consumer?.close().catch(() => undefined);
  }
}
