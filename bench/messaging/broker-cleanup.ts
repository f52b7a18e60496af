/**
 * Where the benchmark's brokers are (the loopback services of docs/benchmarks.md)
 * and how a session deletes what it created, with the raw client libraries.
 */
import { Socket } from "node:net";

/** NATS JetStream on loopback. */
export const NATS_SERVERS = "127.0.0.1:4222";
/** RabbitMQ on loopback (guest/guest). */
export const AMQP_URL = "amqp://guest:guest@127.0.0.1:5672";
/** Redis on loopback. */
export const REDIS_URL = "redis://127.0.0.1:6379";

/** The TCP service each adapter needs; memory needs none. */
export const SERVICES: Readonly<Record<string, { name: string; port: number } | undefined>> = {
  memory: undefined,
  nats: { name: "NATS", port: 4222 },
  amqp: { name: "RabbitMQ", port: 5672 },
  redis: { name: "Redis", port: 6379 },
};

/** Why `adapter`'s broker cannot be used (its port on 127.0.0.1 does not answer within 1 s); undefined when it answers. */
export function unreachableReason(adapter: string): Promise<string | undefined> {
  const service = SERVICES[adapter];
  if (service === undefined) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok ? undefined : `${service.name} is not reachable on 127.0.0.1:${service.port}`);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(service.port, "127.0.0.1", () => done(true));
  });
}

/** Deletes JetStream streams (missing ones are fine). */
export async function deleteNatsStreams(streams: readonly string[]): Promise<void> {
  const { connect } = await import("@nats-io/transport-node");
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const nc = await connect({ servers: NATS_SERVERS });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of streams) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** Deletes RabbitMQ queues, then the exchange. */
export async function deleteAmqp(exchange: string, queues: readonly string[]): Promise<void> {
  const { connect } = await import("amqplib");
  const conn = await connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) await ch.deleteQueue(q);
    await ch.deleteExchange(exchange);
    await ch.close();
  } finally {
    await conn.close();
  }
}

/** Deletes Redis keys. */
export async function deleteRedisKeys(keys: readonly string[]): Promise<void> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
