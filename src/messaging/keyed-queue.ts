/**
 * A FIFO of items, some with a key, from which {@link KeyedQueue.take} returns
 * the oldest item whose key is not taken already. Items of one key come out
 * one at a time, in push order; items without a key come out freely. This is
 * how a subscription runs handlers concurrently yet keeps per-key order
 * (Google Pub/Sub ordering keys have the same contract).
 */
export class KeyedQueue<T> {
  #items: { key: string | undefined; item: T }[] = [];
  readonly #busy = new Set<string>();

  /** Items waiting. */
  get size(): number {
    return this.#items.length;
  }

  /** Appends `item` under `key` (or none). */
  push(key: string | undefined, item: T): void {
    this.#items.push({ key, item });
  }

  /** Puts `item` before every other item (a retry that must keep its place in its key's order). */
  pushFront(key: string | undefined, item: T): void {
    this.#items.unshift({ key, item });
  }

  /** Removes and returns the oldest item whose key is free, marking the key busy until {@link release}. */
  take(): { key: string | undefined; item: T } | undefined {
    const index = this.#items.findIndex((e) => e.key === undefined || !this.#busy.has(e.key));
    if (index < 0) return undefined;
    const [entry] = this.#items.splice(index, 1);
    if (entry.key !== undefined) this.#busy.add(entry.key);
    return entry;
  }

  /** Frees `key` after its item was handled. */
  release(key: string | undefined): void {
    if (key !== undefined) this.#busy.delete(key);
  }

  /** Removes and returns every waiting item. */
  drain(): T[] {
    const items = this.#items.map((e) => e.item);
    this.#items = [];
    return items;
  }
}
