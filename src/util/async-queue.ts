/**
 * A single-consumer async queue: a producer pushes values (or ends it, or
 * fails it), the consumer iterates them. Used by transports to turn socket
 * events into the `AsyncIterable`s that handlers and clients read.
 *
 * Backpressure: `size` tells the producer how many values wait; the
 * `onPull` callback fires whenever the consumer takes one, so a transport can
 * pause its source above a high-water mark and resume below it. When the
 * consumer stops early (`return()`), `onCancel` fires once.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #values: T[] = [];
  #head = 0;
  #ended = false;
  #error: unknown = undefined;
  #failed = false;
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  #cancelled = false;
  #iterated = false;

  constructor(
    private readonly hooks: { onPull?: () => void; onCancel?: () => void } = {},
  ) {}

  /** Values waiting to be read. */
  get size(): number {
    return this.#values.length - this.#head;
  }

  /** True once the consumer stopped early. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Adds a value; ignored after end, failure or cancellation. */
  push(value: T): void {
    if (this.#ended || this.#failed || this.#cancelled) return;
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w.resolve({ done: false, value });
      this.hooks.onPull?.();
      return;
    }
    this.#values.push(value);
  }

  /** Ends the stream after the queued values. */
  end(): void {
    if (this.#ended || this.#failed) return;
    this.#ended = true;
    if (this.#waiter !== undefined && this.size === 0) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve({ done: true, value: undefined });
    }
  }

  /** Fails the stream: the consumer gets `error` after the queued values. */
  fail(error: unknown): void {
    if (this.#ended || this.#failed) return;
    this.#failed = true;
    this.#error = error;
    if (this.#waiter !== undefined && this.size === 0) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.reject(error);
    }
  }

  #next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.#values[this.#head];
      this.#values[this.#head++] = undefined as T;
      if (this.#head > 1024 && this.#head * 2 > this.#values.length) {
        this.#values.splice(0, this.#head);
        this.#head = 0;
      }
      this.hooks.onPull?.();
      return Promise.resolve({ done: false, value });
    }
    if (this.#failed) return Promise.reject(this.#error);
    if (this.#ended || this.#cancelled) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  #return(): Promise<IteratorResult<T>> {
    if (!this.#cancelled && !this.#ended && !this.#failed) {
      this.#cancelled = true;
      this.#values.length = 0;
      this.#head = 0;
      this.hooks.onCancel?.();
    }
    return Promise.resolve({ done: true, value: undefined });
  }

  /** Iterates the values; a queue can be iterated once. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterated) throw new TypeError("AsyncQueue can be iterated only once");
    this.#iterated = true;
    return { next: () => this.#next(), return: () => this.#return() };
  }
}
