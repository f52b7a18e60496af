import type { JetStreamManager } from "@nats-io/jetstream";
import type { TopicListing } from "../adapter.js";
import { topicMatches } from "../topic.js";
import { natsError } from "./nats-errors.js";
import { chunkStreamName } from "./nats-large-payloads.js";

/** A consumer of a stream as the listing needs it: its group name and filter pattern. */
interface GroupFilter {
  readonly group: string;
  readonly pattern: string;
}

/**
 * Lists every subject stored in the server's JetStream streams (Ferry's
 * `FERRY_<root>` streams and any other stream; not Ferry's internal chunk
 * stream) with its message count (stream info with `subjects_filter: ">"`)
 * and the consumer groups whose filter matches it. A Ferry durable consumer
 * `<group>__<pattern>_<hash>` is shown as `<group>`, any other consumer by its
 * name. Rejects UNAVAILABLE when JetStream does not answer.
 */
export async function listNatsTopics(jsm: JetStreamManager): Promise<TopicListing[]> {
  const out: TopicListing[] = [];
  try {
    for await (const stream of jsm.streams.list()) {
      const name = stream.config.name;
      if (name === chunkStreamName) continue;
      const info = await jsm.streams.info(name, { subjects_filter: ">" });
      const groups = await streamGroups(jsm, name);
      for (const [topic, messages] of Object.entries(info.state.subjects ?? {})) {
        const readers = groups.filter((g) => topicMatches(g.pattern, topic)).map((g) => g.group);
        out.push({ topic, messages, groups: [...new Set(readers)].sort() });
      }
    }
  } catch (err) {
    throw natsError(err, "list JetStream streams");
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic));
}

async function streamGroups(jsm: JetStreamManager, stream: string): Promise<GroupFilter[]> {
  const groups: GroupFilter[] = [];
  for await (const consumer of jsm.consumers.list(stream)) {
    const durable = consumer.config.durable_name ?? consumer.name;
    const separator = durable.indexOf("__");
    const group = separator > 0 ? durable.slice(0, separator) : durable;
    const patterns = consumer.config.filter_subjects ?? [consumer.config.filter_subject ?? ">"];
    for (const pattern of patterns) groups.push({ group, pattern });
  }
  return groups;
}
