import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../../util/logger.js";
import type { AdapterConsumer, ConsumerBacklog, ConsumerSpec, DeliverySink, RawDelivery } from "../adapter.js";
import { decodeEntry, redisError, type RawEntry, type StreamEntry } from "./redis-headers.js";
import { groupStartId, idTimeMs } from "./redis-topology.js";

/** What a {@link RedisConsumer} needs. */
export interface RedisConsumerInit {
  /** Connection for short commands (shared with the adapter). */
  readonly commands: Redis;
  /** A dedicated connection for the blocking `XREADGROUP` (owned by the consumer). */
  readonly reader: Redis;
  readonly key: string;
  readonly spec: ConsumerSpec;
  readonly sink: DeliverySink;
  readonly blockMs: number;
  readonly claimIntervalMs: number | undefined;
  readonly logger: Logger;
  /** Called once by `close()`. */
  readonly onClosed: (consumer: RedisConsumer) => void;
}

/**
 * A consumer group member on a Redis stream (Redis Streams' documented
 * consumer-group model, https://redis.io/docs/latest/develop/data-types/streams/):
 * - joins or creates the group (`XGROUP CREATE … MKSTREAM`, start id from `startAt`);
 * - reads new entries with `XREADGROUP … COUNT <free slots> BLOCK` on its own
 *   connection, so at most `prefetch` entries are unsettled at once;
 * - acks with `XACK`; a failed message is claimed back at once
 *   (`XCLAIM`, which counts a delivery) and delivered again;
 * - keeps the entries it holds from looking idle while it lives (see `#keepLeases`);
 * - every `claimIntervalMs`, claims entries other members left pending for
 *   longer than `ackTimeoutMs` (`XAUTOCLAIM`: crashed consumers), with the
 *   delivery attempt read from `XPENDING`'s delivery counter;
 * - on `close()`, hands what the core left unsettled back to the group at once.
 */
export class RedisConsumer implements AdapterConsumer {
  readonly #init: RedisConsumerInit;
  readonly #name = `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
  /** Ids delivered and not settled yet (each occupies a prefetch slot). */
  readonly #unsettled = new Set<string>();
  #slotFreed: (() => void) | undefined;
  #stopped = false;
  #closed = false;
  #loop: Promise<void> | undefined;
  #claimTimer: NodeJS.Timeout | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  #claimCursor = "0-0";
  #readerId: number | undefined;

  constructor(init: RedisConsumerInit) {
    this.#init = init;
  }

  /** Consumer name within the group. */
  get consumerName(): string {
    return this.#name;
  }

  /** The group's `lag` (`XINFO GROUPS`, Redis 7+) and its pending entries (`XPENDING` summary count). */
  async backlog(): Promise<ConsumerBacklog> {
    const { commands, key, spec } = this.#init;
    const [groups, pending] = await Promise.all([commands.call("XINFO", "GROUPS", key), commands.call("XPENDING", key, spec.group)]);
    const group = (groups as unknown[][]).map(pairs).find((g) => g.name === spec.group);
    const lag = group?.lag;
    return { pending: typeof lag === "number" ? lag : undefined, unacked: Number((pending as unknown[])[0] ?? 0) };
  }

  /** Creates or joins the group and starts reading. Raises UNAVAILABLE, or INVALID_ARGUMENT for a bad `startAt`. */
  async start(): Promise<void> {
    const startId = groupStartId(this.#init.spec.startAt);
    await this.#createGroup(startId);
    this.#readerId = Number(await this.#init.reader.call("CLIENT", "ID").catch((err: unknown) => {
      throw redisError("cannot open the Redis reader connection", err);
    }));
    this.#init.reader.on("ready", () => {
      void this.#init.reader.call("CLIENT", "ID").then((id) => (this.#readerId = Number(id)), () => {});
    });
    this.#loop = this.#readLoop();
    const { ackTimeoutMs } = this.#init.spec;
    const interval = this.#init.claimIntervalMs ?? Math.min(5000, Math.max(50, Math.floor(ackTimeoutMs / 4)));
    this.#claimTimer = setInterval(() => void this.#claimIdle(), interval);
    this.#leaseTimer = setInterval(() => void this.#keepLeases(), Math.max(50, Math.floor(ackTimeoutMs / 3)));
    // Entries a crashed or stopped member left behind are taken at once, not one interval later.
    void this.#claimIdle();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#claimTimer);
    this.#slotFreed?.();
    if (this.#readerId !== undefined) await this.#init.commands.call("CLIENT", "UNBLOCK", this.#readerId).catch(() => {});
    await this.#loop;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#init.onClosed(this);
    await this.stop();
    clearInterval(this.#leaseTimer);
    const { commands, key, spec } = this.#init;
    this.#init.reader.disconnect();
    // What the core did not settle goes back to the group at once.
    await Promise.all([...this.#unsettled].map((id) => this.#release(id)));
    this.#unsettled.clear();
    // Leave no member behind in the group, unless it still owns pending entries (they would be lost).
    try {
      const pending = (await commands.call("XPENDING", key, spec.group, "-", "+", 1, this.#name)) as unknown[];
      if (pending.length === 0) await commands.call("XGROUP", "DELCONSUMER", key, spec.group, this.#name);
    } catch {
      // best effort
    }
  }

  async #createGroup(startId: string): Promise<void> {
    const { commands, key, spec } = this.#init;
    try {
      await commands.call("XGROUP", "CREATE", key, spec.group, startId, "MKSTREAM");
    } catch (err) {
      if (String((err as Error)?.message).startsWith("BUSYGROUP")) return;
      throw redisError(`cannot create consumer group "${spec.group}" on stream "${key}"`, err);
    }
  }

  async #readLoop(): Promise<void> {
    const { reader, key, spec, blockMs } = this.#init;
    while (!this.#stopped) {
      const free = spec.prefetch - this.#unsettled.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
        this.#slotFreed = undefined;
        continue;
      }
      let reply: unknown;
      try {
        reply = await reader.callBuffer("XREADGROUP", "GROUP", spec.group, this.#name, "COUNT", free, "BLOCK", blockMs, "STREAMS", key, ">");
      } catch (err) {
        if (this.#stopped) return;
        await this.#recover(err);
        continue;
      }
      const streams = reply as [Buffer, RawEntry[]][] | null;
      for (const [, entries] of streams ?? []) {
        for (const raw of entries) {
          const entry = decodeEntry(raw);
          if (entry === undefined) continue;
          if (this.#stopped) void this.#release(entry.id);
          else this.#deliver(entry, 1);
        }
      }
    }
  }

  /** After a failed read: re-creates the group if Redis lost it (a restart without persistence), else waits a little. */
  async #recover(err: unknown): Promise<void> {
    if (String((err as Error)?.message).startsWith("NOGROUP")) {
      this.#init.logger.warn({ key: this.#init.key, group: this.#init.spec.group }, "Redis consumer group vanished; re-creating it from the stream's start");
      await this.#createGroup("0").catch(() => {});
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  #deliver(entry: StreamEntry, attempt: number): void {
    if (this.#unsettled.has(entry.id)) return; // already with the core (a claim of our own entry)
    this.#unsettled.add(entry.id);
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      this.#unsettled.delete(entry.id);
      this.#slotFreed?.();
      return true;
    };
    const { commands, key, spec } = this.#init;
    const delivery: RawDelivery = {
      topic: spec.topic,
      payload: entry.payload,
      headers: entry.headers,
      sequence: entry.id,
      deliveryAttempt: attempt,
      publishTimeMs: idTimeMs(entry.id),
      ack: async () => {
        if (!settle()) return;
        await commands.call("XACK", key, spec.group, entry.id).catch((err: unknown) => {
          throw redisError(`XACK of ${entry.id} failed (it will be claimed again after ackTimeoutMs)`, err);
        });
      },
      nack: async () => {
        if (!settle()) return;
        if (this.#stopped) return this.#release(entry.id);
        await this.#redeliver(entry.id);
      },
      extend: async () => {
        if (settled) return;
        await commands.call("XCLAIM", key, spec.group, this.#name, 0, entry.id, "JUSTID").catch(() => {});
      },
    };
    this.#init.sink.deliver(delivery);
  }

  /**
   * Resets the idle time of every unsettled entry (`XCLAIM … JUSTID`, which
   * does not count a delivery), every `ackTimeoutMs / 3`: while this member
   * lives, including while the core holds a failed message for its backoff
   * delay, other members do not claim its entries; when it dies they do.
   */
  async #keepLeases(): Promise<void> {
    if (this.#unsettled.size === 0) return;
    const { commands, key, spec } = this.#init;
    await commands.call("XCLAIM", key, spec.group, this.#name, 0, ...this.#unsettled, "JUSTID").catch(() => {});
  }

  /** Claims a failed entry back (counting a delivery) and delivers it again. */
  async #redeliver(id: string): Promise<void> {
    const { commands, key, spec } = this.#init;
    try {
      const claimed = (await commands.callBuffer("XCLAIM", key, spec.group, this.#name, 0, id)) as RawEntry[];
      await this.#deliverClaimed(claimed);
    } catch (err) {
      throw redisError(`cannot redeliver ${id} (it will be claimed again after ackTimeoutMs)`, err);
    }
  }

  /** Makes an entry claimable by the group's other members right away (its idle time set to `ackTimeoutMs`). */
  async #release(id: string): Promise<void> {
    const { commands, key, spec } = this.#init;
    await commands.call("XCLAIM", key, spec.group, this.#name, 0, id, "IDLE", spec.ackTimeoutMs, "JUSTID").catch(() => {});
  }

  /** Claims entries idle longer than `ackTimeoutMs` (their consumer crashed or hangs), up to the free slots. */
  async #claimIdle(): Promise<void> {
    const { commands, key, spec } = this.#init;
    const free = spec.prefetch - this.#unsettled.size;
    if (this.#stopped || free <= 0) return;
    try {
      const reply = (await commands.callBuffer("XAUTOCLAIM", key, spec.group, this.#name, spec.ackTimeoutMs, this.#claimCursor, "COUNT", free)) as [
        Buffer,
        RawEntry[],
      ];
      this.#claimCursor = reply[0].toString();
      await this.#deliverClaimed(reply[1]);
    } catch (err) {
      if (!this.#stopped) this.#init.logger.debug({ err, key }, "XAUTOCLAIM failed");
    }
  }

  /** Delivers claimed entries with their delivery counts from `XPENDING`. */
  async #deliverClaimed(claimed: RawEntry[]): Promise<void> {
    const entries = claimed.map(decodeEntry).filter((e): e is StreamEntry => e !== undefined);
    if (entries.length === 0) return;
    const { commands, key, spec } = this.#init;
    const first = entries[0].id;
    const last = entries[entries.length - 1].id;
    const rows = (await commands.call("XPENDING", key, spec.group, first, last, 10_000, this.#name)) as [string, string, number, number][];
    const counts = new Map(rows.map((r) => [r[0], Number(r[3])]));
    for (const entry of entries) {
      if (this.#stopped) {
        void this.#release(entry.id);
        continue;
      }
      this.#deliver(entry, counts.get(entry.id) ?? 1);
    }
  }
}

/** A flat `[field, value, …]` reply (XINFO) as an object. */
function pairs(reply: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}
