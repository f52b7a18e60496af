import { topicMatches } from "../topic.js";
import type { StartPosition } from "../adapter.js";
import { MemoryGroup } from "./memory-group.js";

/** One stored message of the embedded broker. */
export interface MemoryEntry {
  readonly sequence: number;
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeMs: number;
}

/** Limits of a {@link MemoryStore}. */
export interface MemoryStoreLimits {
  /** Messages kept; the oldest are dropped beyond it. */
  readonly maxStoredMessages: number;
  /** De-duplication window, in ms. */
  readonly duplicateWindowMs: number;
}

/**
 * The embedded broker's state, shared by every `memory:` client of one name in
 * the process: an append-only log with global sequence numbers (like one
 * JetStream stream over every topic), a de-duplication table, and the
 * consumer groups, each keyed by topic pattern and group name.
 */
export class MemoryStore {
  readonly limits: MemoryStoreLimits;
  #log: MemoryEntry[] = [];
  #nextSequence = 1;
  readonly #dedup = new Map<string, { sequence: number; timeMs: number }>();
  readonly #groups = new Map<string, MemoryGroup>();

  constructor(limits: MemoryStoreLimits) {
    this.limits = limits;
  }

  /** Appends a message; returns its sequence and whether `dedupId` was seen within the window. */
  append(topic: string, payload: Uint8Array, headers: Readonly<Record<string, string>>, dedupId: string | undefined): { sequence: number; duplicate: boolean } {
    const now = Date.now();
    if (dedupId !== undefined) {
      const seen = this.#dedup.get(dedupId);
      if (seen !== undefined && now - seen.timeMs < this.limits.duplicateWindowMs) return { sequence: seen.sequence, duplicate: true };
    }
    const entry: MemoryEntry = { sequence: this.#nextSequence++, topic, payload: payload.slice(), headers: { ...headers }, timeMs: now };
    this.#log.push(entry);
    if (dedupId !== undefined) this.#dedup.set(dedupId, { sequence: entry.sequence, timeMs: now });
    this.#trim(now);
    for (const group of this.#groups.values()) if (topicMatches(group.pattern, topic)) group.pump();
    return { sequence: entry.sequence, duplicate: false };
  }

  /** The first entry at or after `sequence` whose topic matches `pattern`, or `undefined`. */
  next(pattern: string, sequence: number): MemoryEntry | undefined {
    const first = this.#log[0]?.sequence ?? this.#nextSequence;
    for (let i = Math.max(0, sequence - first); i < this.#log.length; i++) {
      const e = this.#log[i];
      if (topicMatches(pattern, e.topic)) return e;
    }
    return undefined;
  }

  /** The entry with `sequence`, if still stored. */
  get(sequence: number): MemoryEntry | undefined {
    const first = this.#log[0]?.sequence ?? this.#nextSequence;
    return this.#log[sequence - first];
  }

  /** The consumer group `group` of `pattern`, created at `startAt` if new. */
  group(pattern: string, group: string, startAt: StartPosition): MemoryGroup {
    const key = `${pattern}\u0000${group}`;
    let g = this.#groups.get(key);
    if (g === undefined) {
      g = new MemoryGroup(this, pattern, this.#startSequence(startAt));
      this.#groups.set(key, g);
    }
    return g;
  }

  #startSequence(startAt: StartPosition): number {
    const first = this.#log[0]?.sequence ?? this.#nextSequence;
    switch (startAt.kind) {
      case "new":
        return this.#nextSequence;
      case "beginning":
        return first;
      case "sequence":
        return Math.max(first, Number(startAt.sequence) || first);
      case "time": {
        const e = this.#log.find((x) => x.timeMs >= startAt.timeMs);
        return e?.sequence ?? this.#nextSequence;
      }
    }
  }

  #trim(now: number): void {
    // Trim in chunks, so that a full log does not copy itself on every append.
    const excess = this.#log.length - this.limits.maxStoredMessages;
    if (excess > 0 && (excess >= 1024 || excess * 16 >= this.limits.maxStoredMessages)) this.#log = this.#log.slice(excess);
    if (this.#dedup.size > 1024 && this.#dedup.size % 1024 === 0) {
      for (const [id, v] of this.#dedup) if (now - v.timeMs >= this.limits.duplicateWindowMs) this.#dedup.delete(id);
    }
  }
}

const stores = new Map<string, MemoryStore>();

/** The process-wide store named `name` (`memory:` → `""`, `memory:orders` → `"orders"`). */
export function memoryStore(name: string, limits: MemoryStoreLimits): MemoryStore {
  let store = stores.get(name);
  if (store === undefined) {
    store = new MemoryStore(limits);
    stores.set(name, store);
  }
  return store;
}
