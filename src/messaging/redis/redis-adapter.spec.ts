/**
 * What the conformance suite does not see of the Redis Streams adapter:
 * start ids, entry format, options, errors, MAXLEN, leases of a live member
 * versus XAUTOCLAIM, group membership cleanup, recovery from a lost group
 * and from a killed connection.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { getDefaultLogger } from "../../util/logger.js";
import type { ConsumerSpec, RawDelivery } from "../adapter.js";
import { checkService } from "../../../test/support/services.js";
import { rejection } from "../../../test/support/rejection.js";
import { cleanupRedis, redisTestUrl } from "../../../test/messaging/redis-service.js";
import { startPausableProxy } from "../../../test/messaging/pausable-proxy.js";
import { clientLibraryLoads } from "../../../test/messaging/lazy-load.js";
import { fileURLToPath } from "node:url";
import { adapterFactory, type RedisAdapter } from "./redis-adapter.js";
import { decodeEntry, redisError } from "./redis-headers.js";
import { parseRedisOptions } from "./redis-options.js";
import { groupStartId, idTimeMs } from "./redis-topology.js";

const check = await checkService("Redis", "127.0.0.1", 6379);
const prefix = `ferry-spec-${randomBytes(3).toString("hex")}:`;
const root = `r${randomBytes(3).toString("hex")}`;
const logger = getDefaultLogger();

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function record(topic: string, text = "x", headers: Record<string, string> = {}) {
  return { topic, payload: new TextEncoder().encode(text), headers, messageId: "m", dedupId: undefined, orderingKey: undefined };
}

function spec(topic: string, over: Partial<ConsumerSpec> = {}): ConsumerSpec {
  return { topic, group: "g", startAt: { kind: "new" }, prefetch: 5, ackTimeoutMs: 1000, maxDeliveries: 5, ...over };
}

describe("redis stream ids and entries", () => {
  it("starts a new group just before the named entry or time, so the start is inclusive", () => {
    expect(groupStartId({ kind: "new" })).toBe("$");
    expect(groupStartId({ kind: "beginning" })).toBe("0");
    expect(groupStartId({ kind: "sequence", sequence: "1700000000000-5" })).toBe("1700000000000-4");
    expect(groupStartId({ kind: "sequence", sequence: "1700000000000-0" })).toBe("1699999999999-18446744073709551615");
    expect(groupStartId({ kind: "sequence", sequence: "1700000000000" })).toBe("1699999999999-18446744073709551615");
    expect(groupStartId({ kind: "time", timeMs: 1700000000000 })).toBe("1699999999999-18446744073709551615");
    expect(groupStartId({ kind: "time", timeMs: 0 })).toBe("0");
    expect(idTimeMs("1700000000123-7")).toBe(1700000000123);
  });

  it("raises INVALID_ARGUMENT for a sequence that is not a stream id", () => {
    expect(() => groupStartId({ kind: "sequence", sequence: "abc" })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
  });

  it("decodes payload and headers, tolerating foreign entries and deleted ones", () => {
    const b = (s: string): Buffer => Buffer.from(s);
    expect(decodeEntry([b("1-1"), [b("payload"), b("hi"), b("headers"), b('{"a":"1","n":2}')]])).toEqual({
      id: "1-1",
      payload: b("hi"),
      headers: { a: "1" },
    });
    expect(decodeEntry([b("1-2"), [b("other"), b("x"), b("headers"), b("not json")]])).toEqual({ id: "1-2", payload: new Uint8Array(0), headers: {} });
    expect(decodeEntry([b("1-3"), null])).toBeUndefined();
  });

  it("maps connection failures to UNAVAILABLE, OOM to RESOURCE_EXHAUSTED, other replies to INTERNAL", () => {
    const reply = (m: string): Error => Object.assign(new Error(m), { name: "ReplyError" });
    expect(redisError("x", new Error("Stream isn't writeable")).code).toBe(Code.UNAVAILABLE);
    expect(redisError("x", reply("OOM command not allowed")).code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(redisError("x", reply("WRONGTYPE")).code).toBe(Code.INTERNAL);
  });

  it("reads options from the URL query and adapterOptions; raises INVALID_ARGUMENT for bad ones", () => {
    const { options, connectUrl } = parseRedisOptions(new URL("redis://h:6379/2?keyPrefix=shop:&maxLen=100"), { blockMs: 500 });
    expect(options).toEqual({
      keyPrefix: "shop:",
      maxLen: 100,
      blockMs: 500,
      claimIntervalMs: undefined,
      maxMessageBytes: 64 * 1024 * 1024,
      commandTimeoutMs: 10_000,
    });
    expect(connectUrl).toBe("redis://h:6379/2");
    for (const bad of [{ maxLen: 0 }, { blockMs: "x" }, { keyPrefix: "a b" }]) {
      expect(() => parseRedisOptions(new URL("redis://h"), bad)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    }
  });
});

describe.skipIf(check.skip)("RedisAdapter", () => {
  const url = `${redisTestUrl}?keyPrefix=${prefix}&claimIntervalMs=50`;
  let adapter: RedisAdapter;
  let redis: Redis;

  beforeAll(async () => {
    adapter = (await adapterFactory(new URL(url), { logger, adapterOptions: {} })) as RedisAdapter;
    redis = new Redis(redisTestUrl, { protocol: 2 });
  });
  afterAll(async () => {
    await adapter?.close();
    redis?.disconnect();
    await cleanupRedis(prefix, root);
  });

  describe("adapterFactory()", () => {
    it("loads ioredis only when it runs, not when the adapter module is imported", async () => {
      const modulePath = fileURLToPath(new URL("./redis-adapter.ts", import.meta.url));
      const { before, after } = await clientLibraryLoads(modulePath, redisTestUrl, "ioredis");
      expect(before).toBe(0);
      expect(after).toBeGreaterThan(0);
    });

    it("raises UNAVAILABLE when Redis cannot be reached", async () => {
      const err = await rejection(adapterFactory(new URL("redis://127.0.0.1:1"), { logger, adapterOptions: {} }));
      expect(err.code).toBe(Code.UNAVAILABLE);
    });
  });

  describe("publish()", () => {
    it("resolves with the entry id, the entry holding payload and headers", async () => {
      const topic = `${root}.pub`;
      const { sequence } = await adapter.publish(record(topic, "hello", { "x-k": "v" }));
      expect(sequence).toMatch(/^\d+-\d+$/);
      const [[id, fields]] = await redis.xrange(adapter.keyOf(topic), "-", "+");
      expect(id).toBe(sequence);
      expect(fields).toEqual(["payload", "hello", "headers", '{"x-k":"v"}']);
    });

    it("trims the stream with MAXLEN ~ when maxLen is set", async () => {
      const capped = (await adapterFactory(new URL(`${url}&maxLen=10`), { logger, adapterOptions: {} })) as RedisAdapter;
      try {
        const topic = `${root}.capped`;
        for (let i = 0; i < 300; i++) await capped.publish(record(topic));
        const len = await redis.xlen(capped.keyOf(topic));
        expect(len).toBeGreaterThanOrEqual(10);
        expect(len).toBeLessThan(300);
      } finally {
        await capped.close();
      }
    });

    it("raises UNAVAILABLE when Redis does not answer within commandTimeoutMs", async () => {
      const proxy = await startPausableProxy("127.0.0.1", 6379);
      const cut = await adapterFactory(new URL(`redis://127.0.0.1:${proxy.port}?keyPrefix=${prefix}&commandTimeoutMs=300`), { logger, adapterOptions: {} });
      try {
        proxy.pause();
        const err = await rejection(cut.publish(record(`${root}.cut`)));
        expect(err.code).toBe(Code.UNAVAILABLE);
        expect(err.message).toMatch(/timed out/i);
      } finally {
        await proxy.close();
        await cut.close();
      }
    });

    it("raises RESOURCE_EXHAUSTED over maxMessageBytes and FAILED_PRECONDITION after close()", async () => {
      const small = await adapterFactory(new URL(`${url}&maxMessageBytes=100`), { logger, adapterOptions: {} });
      const err = await rejection(small.publish(record(`${root}.big`, "y".repeat(101))));
      expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
      await small.close();
      expect((await rejection(small.publish(record(`${root}.big`)))).code).toBe(Code.FAILED_PRECONDITION);
    });
  });

  describe("consume()", () => {
    it("keeps a live member's unsettled entries from the others past ackTimeoutMs, and hands them over at close()", async () => {
      const topic = `${root}.lease`;
      const a: RawDelivery[] = [];
      const b: RawDelivery[] = [];
      const ca = await adapter.consume(spec(topic, { ackTimeoutMs: 300 }), { deliver: (d) => void a.push(d), error: () => {} });
      await adapter.publish(record(topic, "held"));
      await until(() => a.length === 1, "the first delivery");
      const cb = await adapter.consume(spec(topic, { ackTimeoutMs: 300 }), { deliver: (d) => void b.push(d), error: () => {} });
      await sleep(1000); // over three ack timeouts, nothing settled, nothing extended by the core
      expect(b).toHaveLength(0);
      expect(a).toHaveLength(1);
      await ca.stop();
      await ca.close(); // without settling: the entry goes back to the group
      await until(() => b.length === 1, "the hand-over to the other member");
      expect(b[0].sequence).toBe(a[0].sequence);
      expect(b[0].deliveryAttempt).toBe(2);
      await b[0].ack();
      expect(await redis.xpending(adapter.keyOf(topic), "g")).toEqual([0, null, null, null]);
      await cb.close();
    });

    it("removes a closed member from the group unless it still owns pending entries", async () => {
      const topic = `${root}.members`;
      const held: RawDelivery[] = [];
      const idle = await adapter.consume(spec(topic), { deliver: (d) => void d.ack(), error: () => {} });
      await idle.close();
      const info = async (): Promise<unknown[]> => (await redis.call("XINFO", "CONSUMERS", adapter.keyOf(topic), "g")) as unknown[];
      expect(await info()).toHaveLength(0);
      const holder = await adapter.consume(spec(topic, { ackTimeoutMs: 60_000 }), { deliver: (d) => void held.push(d), error: () => {} });
      await adapter.publish(record(topic));
      await until(() => held.length === 1, "the delivery");
      await holder.stop();
      await holder.close();
      expect(await info()).toHaveLength(1); // its pending entry stays claimable by the group
    });

    it("re-creates its group when Redis lost it and goes on delivering", async () => {
      const topic = `${root}.nogroup`;
      const got: string[] = [];
      const c = await adapter.consume(spec(topic), { deliver: (d) => void (got.push(new TextDecoder().decode(d.payload)), d.ack()), error: () => {} });
      await redis.xgroup("DESTROY", adapter.keyOf(topic), "g");
      await adapter.publish(record(topic, "after"));
      await until(() => got.includes("after"), "the message after the group was lost");
      await c.close();
    });

    it("goes on delivering after its reader connection is killed", async () => {
      const topic = `${root}.killed`;
      const got: string[] = [];
      const c = await adapter.consume(spec(topic), { deliver: (d) => void (got.push(new TextDecoder().decode(d.payload)), d.ack()), error: () => {} });
      await redis.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
      const end = Date.now() + 10_000;
      while (!got.includes("again") && Date.now() < end) {
        await adapter.publish(record(topic, "again")).catch((err: unknown) => expect(err).toBeInstanceOf(FerryError));
        await sleep(200);
      }
      expect(got).toContain("again");
      await c.close();
    });
  });
});
