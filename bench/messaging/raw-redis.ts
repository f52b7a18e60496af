import { Redis } from "ioredis";
import type { MessagingContender, MessagingSession, OpenOptions } from "./contender.js";
import { REDIS_URL } from "./broker-cleanup.js";

type Entries = [stream: Buffer, entries: [id: Buffer, fields: Buffer[]][]][] | null;

/**
 * `ioredis` doing Ferry's work by hand: `XADD key * payload <bytes>` awaited
 * for its reply; `XGROUP CREATE … $ MKSTREAM`, then a loop on its own
 * connection of `XREADGROUP GROUP bench c1 COUNT 10 BLOCK 2000 STREAMS key >`
 * and `XACK` after the handler of each entry.
 */
async function openRawRedis(options: OpenOptions): Promise<MessagingSession> {
  const key = `raw-bench-${options.suffix}`;
  const commands = new Redis(REDIS_URL, { lazyConnect: true, protocol: 2, maxRetriesPerRequest: 1 });
  const reader = new Redis(REDIS_URL, { lazyConnect: true, protocol: 2, maxRetriesPerRequest: 1 });
  let stopped = false;
  let reading: Promise<void> = Promise.resolve();
  try {
    await commands.connect();
    await commands.call("XGROUP", "CREATE", key, "bench", "$", "MKSTREAM");
    const onMessage = options.onMessage;
    if (onMessage !== undefined) {
      await reader.connect();
      reading = (async () => {
        while (!stopped) {
          const reply = (await reader.callBuffer("XREADGROUP", "GROUP", "bench", "c1", "COUNT", 10, "BLOCK", 500, "STREAMS", key, ">")) as Entries;
          for (const [, entries] of reply ?? []) {
            for (const [id, fields] of entries) {
              onMessage(fields[1]);
              await commands.call("XACK", key, "bench", id);
            }
          }
        }
      })();
    }
  } catch (err) {
    await commands.del(key).catch(() => 0);
    commands.disconnect();
    reader.disconnect();
    throw err;
  }
  return {
    publish: async (payload) => {
      await commands.call("XADD", key, "*", "payload", Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    },
    close: async () => {
      stopped = true;
      try {
        await reading.catch(() => {});
        await commands.del(key);
      } finally {
        commands.disconnect();
        reader.disconnect();
      }
    },
  };
}

/** `raw-redis`: the reference of `ferry-redis`. */
export const rawRedis: MessagingContender = {
  name: "raw-redis",
  adapter: "redis",
  reference: "raw-redis",
  description: "`ioredis`: `XADD` awaited for its reply; `XREADGROUP … COUNT 10 BLOCK` on its own connection, `XACK` per entry",
  open: openRawRedis,
};
