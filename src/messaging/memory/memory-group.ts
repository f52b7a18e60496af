import type { MemoryConsumer } from "./memory-consumer.js";
import type { MemoryStore } from "./memory-store.js";

interface Pending {
  /** Which delivery of the message is current; a settle from an older one is ignored. */
  token: number;
  member: MemoryConsumer;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One consumer group of the embedded broker: a cursor into the log, the
 * messages delivered but not settled (with their ack timers), messages due
 * for redelivery, delivery counts, and the members it deals messages to,
 * round robin among those with a free prefetch slot.
 */
export class MemoryGroup {
  readonly pattern: string;
  readonly #store: MemoryStore;
  #cursor: number;
  readonly #pending = new Map<number, Pending>();
  readonly #redeliver = new Set<number>();
  readonly #attempts = new Map<number, number>();
  readonly #members: MemoryConsumer[] = [];
  #turn = 0;
  #token = 0;
  #scheduled = false;

  constructor(store: MemoryStore, pattern: string, cursor: number) {
    this.#store = store;
    this.pattern = pattern;
    this.#cursor = cursor;
  }

  join(member: MemoryConsumer): void {
    this.#members.push(member);
    this.pump();
  }

  /** Removes `member`; its unsettled messages are redelivered at once (as a broker does when a connection closes). */
  leave(member: MemoryConsumer): void {
    const i = this.#members.indexOf(member);
    if (i >= 0) this.#members.splice(i, 1);
    for (const [sequence, p] of this.#pending) if (p.member === member) this.#requeue(sequence, p);
    this.pump();
  }

  /** Schedules a dispatch round (coalesced, after the current tick's work). */
  pump(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  settle(sequence: number, token: number, redeliverAfterMs: number | undefined): void {
    const p = this.#pending.get(sequence);
    if (p === undefined || p.token !== token) return;
    clearTimeout(p.timer);
    this.#pending.delete(sequence);
    p.member.released();
    if (redeliverAfterMs === undefined) this.#attempts.delete(sequence);
    else if (redeliverAfterMs <= 0) this.#redeliver.add(sequence);
    else setTimeout(() => this.#markDue(sequence), redeliverAfterMs);
    this.pump();
  }

  extend(sequence: number, token: number, ackTimeoutMs: number): void {
    const p = this.#pending.get(sequence);
    if (p === undefined || p.token !== token) return;
    clearTimeout(p.timer);
    p.timer = this.#ackTimer(sequence, p, ackTimeoutMs);
  }

  #dispatch(): void {
    while (true) {
      const member = this.#nextMember();
      if (member === undefined) return;
      const sequence = this.#nextSequence();
      if (sequence === undefined) return;
      const entry = this.#store.get(sequence);
      if (entry === undefined) continue; // trimmed away while waiting
      const attempt = (this.#attempts.get(sequence) ?? 0) + 1;
      this.#attempts.set(sequence, attempt);
      const p: Pending = { token: ++this.#token, member, timer: undefined };
      p.timer = this.#ackTimer(sequence, p, member.ackTimeoutMs);
      this.#pending.set(sequence, p);
      member.deliver(entry, attempt, p.token);
    }
  }

  #nextMember(): MemoryConsumer | undefined {
    for (let i = 0; i < this.#members.length; i++) {
      const m = this.#members[(this.#turn + i) % this.#members.length];
      if (m.hasFreeSlot()) {
        this.#turn = (this.#turn + i + 1) % this.#members.length;
        return m;
      }
    }
    return undefined;
  }

  #nextSequence(): number | undefined {
    if (this.#redeliver.size > 0) {
      const sequence = Math.min(...this.#redeliver);
      this.#redeliver.delete(sequence);
      return sequence;
    }
    const entry = this.#store.next(this.pattern, this.#cursor);
    if (entry === undefined) return undefined;
    this.#cursor = entry.sequence + 1;
    return entry.sequence;
  }

  #ackTimer(sequence: number, p: Pending, ackTimeoutMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (this.#pending.get(sequence) === p) this.#requeue(sequence, p);
      this.pump();
    }, ackTimeoutMs);
    timer.unref();
    return timer;
  }

  #requeue(sequence: number, p: Pending): void {
    clearTimeout(p.timer);
    this.#pending.delete(sequence);
    p.member.released();
    this.#redeliver.add(sequence);
  }

  #markDue(sequence: number): void {
    if (this.#pending.has(sequence)) return;
    this.#redeliver.add(sequence);
    this.pump();
  }
}
