/**
 * What the Messaging view asks the broker (the dashboard's broker client),
 * beyond the whole-group re-drive (`Broker.redrive`):
 *
 * - the dead letters of a topic and group, with their headers, reason and
 *   a payload preview decoded as JSON with the message type the letter's
 *   `ferry-type` header names (from the dashboard's `messageTypes`), read
 *   through the re-drive reader as `ferry dlq list` does (letters not moved
 *   stay where they are);
 * - re-driving one dead letter by message id (or broker sequence), as
 *   `ferry dlq redrive --id` does;
 * - replaying a topic to one consumer group from a time: the messages
 *   published since then are read with a temporary consumer group
 *   (`startAt: { time }`) and published again with `ferry-redrive-group`, so
 *   only that group handles them again (other groups skip them), with their
 *   message id, headers and payload. Where the broker cannot start a
 *   consumer at a time (RabbitMQ queues: `capabilities.replayByTime` false)
 *   it fails with UNIMPLEMENTED saying so.
 */
import { randomUUID } from "node:crypto";
import type { Registry } from "@bufbuild/protobuf";
import { describePayload, type PayloadView } from "../cli/broker-payload.js";
import { releaseDelayMs } from "../cli/broker-connection.js";
import { DeadLetterScan, type DeadLetter } from "../cli/dead-letters.js";
import type { BrokerAdapter, RawDelivery } from "../messaging/adapter.js";
import { BrokerClient, type Broker } from "../messaging/broker.js";
import { FerryHeader } from "../messaging/headers.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** Most dead letters one listing reads. */
export const MAX_LISTED_DEAD_LETTERS = 200;
/** Default and largest number of messages one replay publishes again. */
export const DEFAULT_REPLAY_MAX_MESSAGES = 1_000;
export const MAX_REPLAY_MAX_MESSAGES = 100_000;
/** A replay ends once no message arrived for this long, in ms. */
const REPLAY_IDLE_MS = 1_500;

/** One dead letter as the page shows it. */
export interface DeadLetterView extends PayloadView {
  readonly messageId: string;
  readonly sequence: string;
  readonly group: string;
  readonly topic: string;
  readonly attempts: number | null;
  readonly code: string;
  readonly reason: string;
  readonly deadLetteredAtMs: number | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** The broker actions of the Messaging view. */
export class MessagingTools {
  readonly #broker: Broker;
  readonly #types: Registry | undefined;

  /**
   * @param broker the dashboard's broker client. The tools read raw messages
   *   through the adapter of Ferry's client (`createBroker()`); with another
   *   `Broker` implementation they fail with UNIMPLEMENTED (its whole-group
   *   re-drive still works).
   */
  constructor(broker: Broker, messageTypes: Registry | undefined) {
    this.#broker = broker;
    this.#types = messageTypes;
  }

  /** Whether the broker can replay from a time. */
  get replayByTime(): boolean {
    return this.#broker.capabilities.replayByTime;
  }

  get #adapter(): BrokerAdapter {
    if (!(this.#broker instanceof BrokerClient)) throw new FerryError(Code.UNIMPLEMENTED, "listing dead letters and replaying need Ferry's broker client (createBroker() of ferry/messaging)");
    return this.#broker.adapter;
  }

  /** The dead letters `group` gave up on (at most {@link MAX_LISTED_DEAD_LETTERS}); `full` when more may wait. */
  async deadLetters(topic: string, group: string, deadLetterTopic?: string): Promise<{ letters: DeadLetterView[]; full: boolean }> {
    return this.#withScan(topic, deadLetterTopic, async (scan) => ({
      letters: scan.letters.filter((l) => l.group === group).map((l) => this.#view(l)),
      full: scan.full,
    }));
  }

  /**
   * Moves the dead letter of `group` whose message id (or broker sequence)
   * is `id` back to its topic, for that group only.
   *
   * @throws FerryError NOT_FOUND when the group has no such dead letter.
   */
  async redriveOne(topic: string, group: string, id: string, deadLetterTopic?: string): Promise<{ moved: number; messageId: string }> {
    return this.#withScan(topic, deadLetterTopic, async (scan) => {
      const letter = scan.letters.find((l) => l.group === group && (l.messageId === id || (l.delivery.sequence !== "" && l.delivery.sequence === id)));
      if (letter === undefined) throw new FerryError(Code.NOT_FOUND, `no dead letter with message id or sequence "${id}" of group ${group} on ${topic}`);
      await scan.redriveLetter(letter);
      return { moved: 1, messageId: letter.messageId };
    });
  }

  /**
   * Publishes again, for `group` only, the messages of `topic` published at
   * or after `fromMs` and before the replay started (at most `maxMessages`).
   *
   * @throws FerryError UNIMPLEMENTED when the broker cannot start at a time;
   *   INVALID_ARGUMENT for a time in the future; the broker's errors.
   */
  async replay(topic: string, group: string, fromMs: number, maxMessages = DEFAULT_REPLAY_MAX_MESSAGES): Promise<{ replayed: number; truncated: boolean }> {
    if (!this.replayByTime) {
      throw new FerryError(Code.UNIMPLEMENTED, `the ${this.#broker.kind} broker cannot replay from a time (its queues keep no history once a message is acked); re-drive dead letters instead`);
    }
    const startedMs = Date.now();
    if (fromMs > startedMs) throw new FerryError(Code.INVALID_ARGUMENT, "the replay's start time is in the future");
    const { copies, truncated } = await this.#readSince(topic, fromMs, startedMs, maxMessages);
    const replayId = randomUUID();
    for (const d of copies) await this.#publishCopy(topic, group, d, replayId);
    return { replayed: copies.length, truncated };
  }

  /** The messages of `topic` published from `fromMs` until `startedMs`, read with a temporary group that is deleted after. */
  async #readSince(topic: string, fromMs: number, startedMs: number, maxMessages: number): Promise<{ copies: RawDelivery[]; truncated: boolean }> {
    const copies: RawDelivery[] = [];
    let truncated = false;
    let ended = false;
    let finish: (err?: unknown) => void = () => {};
    const done = new Promise<void>((resolve, reject) => (finish = (err) => (err === undefined ? resolve() : reject(err))));
    let idle: NodeJS.Timeout | undefined;
    const end = (err?: unknown): void => {
      ended = true;
      clearTimeout(idle);
      finish(err);
    };
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => end(), REPLAY_IDLE_MS);
    };
    const deliver = (d: RawDelivery): void => {
      if (ended) return;
      const published = Number(d.headers[FerryHeader.publishTime]);
      if (Number.isFinite(published) && published >= startedMs) return end(); // caught up with the replay's start
      if (copies.length >= maxMessages) {
        truncated = true;
        return end();
      }
      copies.push(d);
      d.ack().catch(() => undefined); // settled in the temporary group, so the broker keeps delivering past the prefetch window
      touch();
    };
    const group = `ferry-replay-${randomUUID().slice(0, 8)}`;
    const spec = { topic, group, startAt: { kind: "time" as const, timeMs: fromMs }, prefetch: 100, ackTimeoutMs: 60_000, maxDeliveries: Number.MAX_SAFE_INTEGER };
    const consumer = await this.#adapter.consume(spec, { deliver, error: (err) => end(FerryError.from(err)) });
    touch();
    try {
      await done;
    } finally {
      end();
      await consumer.stop().catch(() => undefined);
      await consumer.close().catch(() => undefined);
      await this.#adapter.deleteGroup?.(topic, group).catch(() => undefined);
    }
    return { copies, truncated };
  }

  async #publishCopy(topic: string, group: string, d: RawDelivery, replayId: string): Promise<void> {
    const headers = { ...d.headers, [FerryHeader.redriveGroup]: group, [FerryHeader.publishTime]: String(Date.now()) };
    const messageId = d.headers[FerryHeader.messageId] ?? randomUUID();
    await this.#adapter.publish({ topic, payload: d.payload, headers, messageId, dedupId: `replay.${replayId}.${d.sequence || messageId}`, orderingKey: d.headers[FerryHeader.orderingKey] });
  }

  async #withScan<T>(topic: string, deadLetterTopic: string | undefined, work: (scan: DeadLetterScan) => Promise<T>): Promise<T> {
    const scan = await DeadLetterScan.open(this.#adapter, topic, deadLetterTopic ?? `dead-letter.${topic}`, MAX_LISTED_DEAD_LETTERS);
    try {
      return await work(scan);
    } finally {
      await scan.close();
    }
  }

  #view(letter: DeadLetter): DeadLetterView {
    const headers = letter.delivery.headers;
    const typeName = headers[FerryHeader.type];
    const type = typeName === undefined ? undefined : this.#types?.getMessage(typeName);
    return {
      messageId: letter.messageId,
      sequence: letter.delivery.sequence,
      group: letter.group,
      topic: letter.sourceTopic,
      attempts: letter.attempts ?? null,
      code: letter.code,
      reason: letter.reason,
      deadLetteredAtMs: letter.deadLetteredAtMs ?? null,
      headers,
      ...describePayload(letter.delivery.payload, type, this.#types),
      ...(type === undefined && typeName !== undefined ? { type: typeName } : {}),
    };
  }
}

/** How long a scan holds letters before a later one sees them again, in ms (for the page's messages). */
export function letterReturnDelayMs(broker: Broker): number {
  return broker instanceof BrokerClient ? releaseDelayMs(broker.adapter) : 0;
}
