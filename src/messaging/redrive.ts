import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { BrokerAdapter, RawDelivery } from "./adapter.js";
import { FerryHeader, withoutDeadLetterHeaders } from "./headers.js";
import type { Topic } from "./topic.js";

/** Options of `Broker.redrive`. */
export interface RedriveOptions {
  /** Re-drive only dead letters given up by this consumer group. Defaults to every group. */
  group?: string;
  /** Most dead letters to move. Defaults to unlimited. */
  limit?: number;
  /**
   * The re-drive stops once no dead letter arrived for this long, in ms
   * (the dead-letter topic is read until it is drained). Defaults to 1000.
   */
  idleMs?: number;
}

/** What `Broker.redrive` did. */
export interface RedriveResult {
  /** Dead letters published back to their source topics. */
  readonly moved: number;
  /** Dead letters of other groups passed over (when `group` was given); they stay in the dead-letter topic on log-based brokers. */
  readonly skipped: number;
}

/** Consumer group the re-drive reads the dead-letter topic with: `ferry-redrive`, or `ferry-redrive-<group>` for one group's dead letters. */
export function redriveGroupName(group: string | undefined): string {
  return group === undefined ? "ferry-redrive" : `ferry-redrive-${group}`;
}

/**
 * Moves dead letters of `topic` back to their source topics: reads the
 * dead-letter topic in consumer group {@link redriveGroupName} (from the
 * beginning when that group is new, else from where the last re-drive
 * stopped), republishes each message with its original payload, message
 * id and headers minus the `ferry-dead-letter-*` ones, plus
 * `ferry-redrive-group` so that only the group that gave up handles it again,
 * then acks the dead letter. With `group`, other groups' dead letters are
 * acked unmoved in that reader (use either per-group or all-group re-drive
 * for one topic, not both, or a letter may be moved twice).
 * A wildcard topic's dead letters cannot be re-driven in one call: raises INVALID_ARGUMENT.
 */
export async function redrive(adapter: BrokerAdapter, topic: Topic, options: RedriveOptions): Promise<RedriveResult> {
  if (topic.wildcard && topic.deadLetterTopic.includes("*")) {
    throw new FerryError(Code.INVALID_ARGUMENT, `re-drive a concrete topic, not the wildcard "${topic.name}"`);
  }
  return new Redriver(adapter, topic, options).run();
}

/** One re-drive run: consumes the dead-letter topic until it is idle or the limit is reached. */
class Redriver {
  readonly #adapter: BrokerAdapter;
  readonly #topic: Topic;
  readonly #options: RedriveOptions;
  readonly #limit: number;
  readonly #work: Promise<void>[] = [];
  #moved = 0;
  #skipped = 0;
  #idle: NodeJS.Timeout | undefined;
  #finish: (() => void) | undefined;
  #fail: ((err: unknown) => void) | undefined;

  constructor(adapter: BrokerAdapter, topic: Topic, options: RedriveOptions) {
    this.#adapter = adapter;
    this.#topic = topic;
    this.#options = options;
    this.#limit = options.limit ?? Number.POSITIVE_INFINITY;
  }

  async run(): Promise<RedriveResult> {
    const done = new Promise<void>((resolve, reject) => {
      this.#finish = resolve;
      this.#fail = reject;
    });
    const consumer = await this.#adapter.consume(
      {
        topic: this.#topic.deadLetterTopic,
        group: redriveGroupName(this.#options.group),
        startAt: { kind: "beginning" },
        prefetch: 16,
        ackTimeoutMs: 30_000,
        maxDeliveries: Number.MAX_SAFE_INTEGER,
      },
      {
        deliver: (d) => void this.#work.push(this.#handle(d).catch((err: unknown) => this.#fail?.(err))),
        error: (err) => this.#fail?.(err),
      },
    );
    this.#touch();
    try {
      await done;
    } finally {
      clearTimeout(this.#idle);
      await consumer.stop();
      await Promise.allSettled(this.#work);
      await consumer.close();
    }
    return { moved: this.#moved, skipped: this.#skipped };
  }

  /** Restarts the idle timer: the run ends `idleMs` after the last letter. */
  #touch(): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.#finish?.(), this.#options.idleMs ?? 1000);
  }

  async #handle(d: RawDelivery): Promise<void> {
    this.#touch();
    const group = d.headers[FerryHeader.deadLetterGroup];
    if (this.#moved >= this.#limit || (this.#options.group !== undefined && group !== this.#options.group)) {
      if (this.#moved >= this.#limit) return d.nack(0);
      this.#skipped++;
      return d.ack();
    }
    this.#moved++;
    const headers = withoutDeadLetterHeaders(d.headers);
    if (group !== undefined) headers[FerryHeader.redriveGroup] = group;
    const messageId = d.headers[FerryHeader.messageId] ?? "";
    await this.#adapter.publish({
      topic: d.headers[FerryHeader.deadLetterTopic] ?? this.#topic.name,
      payload: d.payload,
      headers,
      messageId,
      dedupId: `redrive.${this.#topic.deadLetterTopic}.${d.sequence || messageId}`,
      orderingKey: d.headers[FerryHeader.orderingKey],
    });
    await d.ack();
    if (this.#moved >= this.#limit) this.#finish?.();
  }
}
