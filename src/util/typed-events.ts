/** One listener of events of type `K` of the event map `M`. */
export type TypedListener<M, K extends keyof M> = (event: { readonly type: K } & M[K]) => void;

/** Any event of the map `M`, discriminated by `type`. */
export type TypedEvent<M> = { [K in keyof M]: { readonly type: K } & M[K] }[keyof M];

/**
 * A small typed, synchronous event emitter over an event map `M` (event type
 * → payload shape), for metrics, logs and the dashboard.
 *
 * Listeners run synchronously when the state change happens. A listener that
 * throws is skipped (its error is dropped) so that observers can never break
 * calls. `on` and `onAny` return a function that removes the listener.
 */
export class TypedEvents<M> {
  readonly #byType = new Map<keyof M, Set<(event: TypedEvent<M>) => void>>();
  readonly #any = new Set<(event: TypedEvent<M>) => void>();

  /** Listens to events of one type. Returns the unsubscribe function. */
  on<K extends keyof M>(type: K, listener: TypedListener<M, K>): () => void {
    let set = this.#byType.get(type);
    if (set === undefined) this.#byType.set(type, (set = new Set()));
    const l = listener as unknown as (event: TypedEvent<M>) => void;
    set.add(l);
    return () => void set.delete(l);
  }

  /** Listens to every event. Returns the unsubscribe function. */
  onAny(listener: (event: TypedEvent<M>) => void): () => void {
    this.#any.add(listener);
    return () => void this.#any.delete(listener);
  }

  /** Number of listeners attached (of one type, including `onAny` ones, or in total with no argument). */
  listenerCount(type?: keyof M): number {
    if (type !== undefined) return (this.#byType.get(type)?.size ?? 0) + this.#any.size;
    let n = this.#any.size;
    for (const set of this.#byType.values()) n += set.size;
    return n;
  }

  /** True when someone listens to `type` (lets emitters skip building events). */
  wants(type: keyof M): boolean {
    return this.#any.size > 0 || (this.#byType.get(type)?.size ?? 0) > 0;
  }

  /** Delivers `event` to its listeners. */
  emit(event: TypedEvent<M>): void {
    const set = this.#byType.get(event.type);
    if (set !== undefined) for (const l of set) safeCall(l, event);
    for (const l of this.#any) safeCall(l, event);
  }

  /** Removes every listener. */
  clear(): void {
    this.#byType.clear();
    this.#any.clear();
  }
}

function safeCall<E>(listener: (event: E) => void, event: E): void {
  try {
    listener(event);
  } catch {
    // Observers must never break calls; see the class comment.
  }
}
