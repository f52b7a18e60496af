import type { Redis, RedisOptions } from "ioredis";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Logger } from "../../util/logger.js";
import type {
  AdapterCapabilities,
  AdapterConsumer,
  AdapterFactory,
  BrokerAdapter,
  ConsumerSpec,
  DeliverySink,
  OutgoingRecord,
  PublishReceipt,
  TopicListing,
} from "../adapter.js";
import { importPeer } from "../adapter-registry.js";
import { RedisConsumer } from "./redis-consumer.js";
import { entryFields, redisError } from "./redis-headers.js";
import { listRedisTopics } from "./redis-listing.js";
import { parseRedisOptions, type RedisAdapterOptions } from "./redis-options.js";
import { streamKeyFor } from "./redis-topology.js";

type RedisClass = new (url: string, options: RedisOptions) => Redis;

/**
 * The `redis://` (and `rediss://`) adapter: Redis Streams through ioredis.
 * A topic is the stream `<keyPrefix><topic>`; publish is `XADD` (resolving
 * with the entry id as the sequence); a consumer group is a stream consumer
 * group (see `RedisConsumer`). Commands fail fast with UNAVAILABLE while the
 * connection is down (no offline queue) and ioredis reconnects by itself.
 */
export class RedisAdapter implements BrokerAdapter {
  readonly name = "redis";
  readonly capabilities: AdapterCapabilities;
  readonly #Redis: RedisClass;
  readonly #url: string;
  readonly #commands: Redis;
  readonly #options: RedisAdapterOptions;
  readonly #logger: Logger;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #consumers = new Set<RedisConsumer>();
  #closed = false;

  constructor(init: { Redis: RedisClass; url: string; commands: Redis; options: RedisAdapterOptions; logger: Logger }) {
    this.#Redis = init.Redis;
    this.#url = init.url;
    this.#commands = init.commands;
    this.#options = init.options;
    this.#logger = init.logger;
    this.capabilities = redisCapabilities(init.options.maxMessageBytes);
  }

  /** The stream key of `topic`. */
  keyOf(topic: string): string {
    return streamKeyFor(this.#options.keyPrefix, topic);
  }

  publish(record: OutgoingRecord): Promise<PublishReceipt> {
    if (this.#closed) return Promise.reject(new FerryError(Code.FAILED_PRECONDITION, "the Redis adapter is closed"));
    const headers = JSON.stringify(record.headers);
    const size = record.payload.byteLength + headers.length;
    if (size > this.capabilities.maxMessageBytes) {
      return Promise.reject(new FerryError(Code.RESOURCE_EXHAUSTED, `message of ${size} bytes exceeds maxMessageBytes ${this.capabilities.maxMessageBytes}`));
    }
    const trim = this.#options.maxLen === undefined ? [] : ["MAXLEN", "~", this.#options.maxLen];
    const payload = Buffer.from(record.payload.buffer, record.payload.byteOffset, record.payload.byteLength);
    const done = this.#commands
      .call("XADD", this.keyOf(record.topic), ...trim, "*", entryFields.payload, payload, entryFields.headers, headers)
      .then(
        (id) => ({ sequence: String(id), duplicate: false }),
        (err: unknown) => {
          throw redisError(`XADD to "${record.topic}" failed`, err);
        },
      );
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done)).catch(() => {});
    return done;
  }

  async consume(spec: ConsumerSpec, sink: DeliverySink): Promise<AdapterConsumer> {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, "the Redis adapter is closed");
    // No command timeout here: XREADGROUP blocks up to blockMs on purpose.
    const reader = new this.#Redis(this.#url, connectionOptions("ferry-reader", undefined, this.#options.tls));
    reader.on("error", (err: Error) => this.#logger.debug({ err }, "Redis reader connection error"));
    try {
      await reader.connect();
    } catch (err) {
      reader.disconnect();
      throw redisError("cannot connect to Redis", err);
    }
    const consumer = new RedisConsumer({
      commands: this.#commands,
      reader,
      key: this.keyOf(spec.topic),
      spec,
      sink,
      blockMs: this.#options.blockMs,
      claimIntervalMs: this.#options.claimIntervalMs,
      logger: this.#logger,
      onClosed: (c) => this.#consumers.delete(c),
    });
    try {
      await consumer.start();
    } catch (err) {
      reader.disconnect();
      throw err;
    }
    this.#consumers.add(consumer);
    return consumer;
  }

  /** The streams under `keyPrefix`, with lengths and groups; see {@link listRedisTopics}. */
  listTopics(): Promise<TopicListing[]> {
    return listRedisTopics(this.#commands, this.#options.keyPrefix);
  }

  /** Destroys the stream's consumer group (`XGROUP DESTROY`); a missing stream or group is not an error. */
  async deleteGroup(topic: string, group: string): Promise<void> {
    const key = this.keyOf(topic);
    try {
      if (Number(await this.#commands.call("EXISTS", key)) === 1) await this.#commands.call("XGROUP", "DESTROY", key, group);
    } catch (err) {
      throw redisError(`cannot delete consumer group "${group}" of stream "${key}"`, err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    await Promise.allSettled([...this.#consumers].map((c) => c.close()));
    await this.#commands.quit().catch(() => this.#commands.disconnect());
  }
}

/**
 * What Redis Streams can and cannot do for Ferry, and why:
 * - `deduplication: false`: `XADD` has no idempotency key (Redis 8.2's
 *   `IDMP` is not assumed).
 * - `wildcards: false`: one stream per topic, and `XREADGROUP` reads named streams only.
 * - `delayedNack: false`: a pending entry can only be claimed, not scheduled;
 *   the core keeps a failed message for the backoff delay and then the
 *   adapter claims it back (`XCLAIM`, counted) and delivers it again.
 * - replay: yes, by entry id (`sequence`), by time (ids are ms timestamps)
 *   and from the beginning, as far as the stream was not trimmed.
 * - `durable`: entries outlive the client; across a Redis restart only with
 *   RDB/AOF persistence.
 */
export function redisCapabilities(maxMessageBytes: number): AdapterCapabilities {
  return {
    deduplication: false,
    wildcards: false,
    delayedNack: false,
    replayBySequence: true,
    replayByTime: true,
    replayFromBeginning: true,
    durable: true,
    maxMessageBytes,
  };
}

function connectionOptions(name: string, commandTimeoutMs?: number, tls?: RedisOptions["tls"]): RedisOptions {
  return {
    tls,
    commandTimeout: commandTimeoutMs,
    lazyConnect: true,
    protocol: 2,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectionName: name,
    retryStrategy: (times) => Math.min(5000, 100 * 2 ** Math.min(times, 6)),
  };
}

/**
 * Creates the Redis Streams adapter for `redis://[user:pass@]host:port[/db]`
 * (options in {@link RedisAdapterOptions}, from `adapterOptions` or the URL's
 * query). Loads `ioredis` on first use; raises FAILED_PRECONDITION when it is
 * not installed, UNAVAILABLE when Redis cannot be reached, INVALID_ARGUMENT for a bad option.
 */
export const adapterFactory: AdapterFactory = async (url, { logger, adapterOptions }) => {
  const { options, connectUrl } = parseRedisOptions(url, adapterOptions);
  const mod = await importPeer("ioredis", () => import("ioredis"));
  const RedisCtor = (mod.Redis ?? mod.default) as unknown as RedisClass;
  const commands = new RedisCtor(connectUrl, connectionOptions("ferry", options.commandTimeoutMs, options.tls));
  let lastError: Error | undefined;
  commands.on("error", (err: Error) => {
    lastError = err;
    logger.debug({ err }, "Redis connection error");
  });
  try {
    await commands.connect();
  } catch (err) {
    commands.disconnect();
    // A failed TLS handshake reaches connect() only as "Connection is closed."; the cause came as an "error" event.
    throw redisError(`cannot connect to Redis at ${url.host}`, lastError !== undefined && (err as Error).message === "Connection is closed." ? lastError : err);
  }
  return new RedisAdapter({ Redis: RedisCtor, url: connectUrl, commands, options, logger });
};
