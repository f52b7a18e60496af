import type { Redis } from "ioredis";
import type { TopicListing } from "../adapter.js";
import { redisError } from "./redis-headers.js";

/** Keys asked for per `SCAN` step. */
const scanCount = 1000;

/**
 * Lists the topics of a Redis Streams broker: every key of type stream that
 * starts with `keyPrefix` (`SCAN … MATCH <prefix>* TYPE stream`), with its
 * length (`XLEN`) and consumer groups (`XINFO GROUPS`). Rejects UNAVAILABLE
 * when Redis cannot be reached.
 */
export async function listRedisTopics(commands: Redis, keyPrefix: string): Promise<TopicListing[]> {
  const keys = new Set<string>();
  try {
    let cursor = "0";
    do {
      const [next, found] = (await commands.call("SCAN", cursor, "MATCH", `${escapeGlob(keyPrefix)}*`, "COUNT", scanCount, "TYPE", "stream")) as [string, string[]];
      cursor = next;
      for (const key of found) keys.add(key);
    } while (cursor !== "0");
    const out: TopicListing[] = [];
    for (const key of keys) {
      const messages = Number(await commands.call("XLEN", key));
      const groups = (await commands.call("XINFO", "GROUPS", key)) as unknown[][];
      out.push({ topic: key.slice(keyPrefix.length), messages, groups: groups.map(groupName).sort() });
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic));
  } catch (err) {
    throw redisError("cannot list the Redis streams", err);
  }
}

/** The `name` field of one `XINFO GROUPS` reply row (a flat field/value list in RESP2). */
function groupName(row: unknown[]): string {
  const i = row.indexOf("name");
  return i >= 0 ? String(row[i + 1]) : "?";
}

/** Escapes glob metacharacters of a key prefix for `SCAN … MATCH`. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
