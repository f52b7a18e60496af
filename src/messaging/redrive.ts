import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { AdapterConsumer, BrokerAdapter, RawDelivery } from "./adapter.js";
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
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const idleMs = options.idleMs ?? 1000;
  let moved = 0;
  let skipped = 0;
  let consumer: AdapterConsumer | undefined;
  const work: Promise<void>[] = [];
  await new Promise<void>((resolve, reject) => {
    let idle = setTimeout(resolve, idleMs);
    const handle = async (d: RawDelivery): Promise<void> => {
      clearTimeout(idle);
      idle = setTimeout(resolve, idleMs);
      const group = d.headers[FerryHeader.deadLetterGroup];
      if (moved >= limit || (options.group !== undefined && group !== options.group)) {
        skipped++;
        await d.ack();
        return;
      }
      moved++;
      const source = d.headers[FerryHeader.deadLetterTopic] ?? topic.name;
      const headers = withoutDeadLetterHeaders(d.headers);
      if (group !== undefined) headers[FerryHeader.redriveGroup] = group;
      const messageId = d.headers[FerryHeader.messageId] ?? "";
      await adapter.publish({
        topic: source,
        payload: d.payload,
        headers,
        messageId,
        dedupId: `redrive.${topic.deadLetterTopic}.${d.sequence || messageId}`,
        orderingKey: d.headers[FerryHeader.orderingKey],
      });
      await d.ack();
      if (moved >= limit) resolve();
    };
    adapter
      .consume(
        {
          topic: topic.deadLetterTopic,
          group: redriveGroupName(options.group),
          startAt: { kind: "beginning" },
          prefetch: 16,
          ackTimeoutMs: 30_000,
          maxDeliveries: Number.MAX_SAFE_INTEGER,
        },
        {
          deliver: (d) => void work.push(handle(d).catch(reject)),
          error: reject,
        },
      )
      .then((c) => (consumer = c), reject);
  });
  await consumer?.stop();
  await Promise.allSettled(work);
  await consumer?.close();
  return { moved, skipped };
}
