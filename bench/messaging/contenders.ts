import type { MessagingContender } from "./contender.js";
import { ferryContender } from "./ferry-contender.js";
import { rawAmqp } from "./raw-amqp.js";
import { rawNats } from "./raw-nats.js";
import { rawRedis } from "./raw-redis.js";

/** The adapters, in table order. */
export const ADAPTERS = ["memory", "nats", "amqp", "redis"] as const;

/** Why the memory adapter has no raw contender (written in its tables). */
export const NO_RAW_MEMORY = "no raw peer: the memory broker is Ferry's own in-process store, there is no client library to compare with";

/** Every messaging contender, in table order: per adapter Ferry, then its raw reference. */
export const MESSAGING_CONTENDERS: readonly MessagingContender[] = [
  ferryContender("memory", undefined),
  ferryContender("nats", "raw-nats"),
  rawNats,
  ferryContender("amqp", "raw-amqp"),
  rawAmqp,
  ferryContender("redis", "raw-redis"),
  rawRedis,
];
