import { Redis } from "ioredis";

/** The Redis URL of the test broker (loopback). */
export const redisTestUrl = "redis://127.0.0.1:6379";

/** Deletes every stream a test run created: keys `<keyPrefix><root>…` and `<keyPrefix>dead-letter.<root>…`. */
export async function cleanupRedis(keyPrefix: string, root: string): Promise<void> {
  const redis = new Redis(redisTestUrl, { lazyConnect: true, protocol: 2 });
  await redis.connect();
  try {
    for (const match of [`${keyPrefix}${root}*`, `${keyPrefix}dead-letter.${root}*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", match, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
    }
  } finally {
    redis.disconnect();
  }
}
