import { AsyncQueue } from "../util/async-queue.js";
import { Code } from "./code.js";
import { FerryError } from "./ferry-error.js";

/**
 * Where a push-style streaming handler sends its response messages (see
 * {@link pushStream}). The contract is Node's `writable.write()`:
 * `send()` queues the message and returns `false` once the receiver asks
 * the handler to slow down (its flow-control window is used up, or the
 * socket's buffer is full); the handler then awaits `ready()` before sending
 * more. Messages sent while `send()` says `false` are still delivered, in
 * order, but buffered in memory.
 */
export interface StreamSink<T> {
  /**
   * Sends one response message: a message of the method's output type or
   * its init object. It is encoded at once (later changes to the object do
   * not reach the client). Returns `false` when the handler should await
   * {@link ready} before sending more.
   *
   * Throws CANCELLED once the call has ended (the client cancelled, the
   * deadline passed, or an earlier message failed the call), so a loop
   * sending without awaiting stops there; throws the encoding error
   * (INTERNAL, INVALID_ARGUMENT for a non-object) or RESOURCE_EXHAUSTED for
   * a message over the client's limit, which also ends the call with it.
   */
  send(message: T): boolean;
  /** Resolves when the receiver can take more messages; rejects with CANCELLED once the call has ended. */
  ready(): Promise<void>;
}

/** The producer of a {@link pushStream}: sends messages into `sink`; the stream ends (OK) when it resolves, with its error when it rejects. */
export type StreamProducer<T> = (sink: StreamSink<T>) => Promise<void> | void;

const producerKey = Symbol("ferry.pushStream.producer");

/** A stream made by {@link pushStream}: a network transport runs its producer directly against its own sink. */
export interface PushStream<T> extends AsyncIterable<T> {
  readonly [producerKey]: StreamProducer<T>;
}

/** The producer of `messages` when it was made by {@link pushStream}, else `undefined`. */
export function pushProducer<T>(messages: AsyncIterable<T>): StreamProducer<T> | undefined {
  return (messages as Partial<PushStream<T>>)[producerKey];
}

/** The error `send()` and `ready()` raise once the call has ended. */
export function streamEndedError(): FerryError {
  return new FerryError(Code.CANCELLED, "the call has ended: no more response messages can be sent");
}

/** Messages the iterable form buffers before `send()` returns false. */
const HIGH_WATER = 32;

/**
 * A server-streaming (or bidi) response produced by pushing: the fast path
 * for streams of many small messages. Return it from a handler instead of
 * an async generator:
 *
 * ```ts
 * serverStream(request, ctx) {
 *   return pushStream(async (out) => {
 *     for (let i = 0; i < request.count; i++) {
 *       if (!out.send({ index: i })) await out.ready();
 *     }
 *   });
 * }
 * ```
 *
 * On the `native` and `grpc` transports the producer writes straight into
 * the transport (each message encoded into the connection's buffers, no
 * promise per message); everywhere else — the in-process transport, an
 * interceptor that wraps the response's messages — the result is an
 * ordinary `AsyncIterable` (buffering up to 32 messages before `send()`
 * returns false), so handlers behave the same on every transport. The
 * producer runs in the handler's call context; its rejection ends the call
 * with that error (non-Ferry errors become INTERNAL, as for any handler).
 */
export function pushStream<T>(produce: StreamProducer<T>): AsyncIterable<T> {
  const stream: PushStream<T> = {
    [producerKey]: produce,
    [Symbol.asyncIterator]: () => iterateProducer(produce),
  };
  return stream;
}

/** The `AsyncIterable` form: the producer runs on the first `next()` and fills a bounded queue. */
function iterateProducer<T>(produce: StreamProducer<T>): AsyncIterator<T> {
  let waiter: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    if (w === undefined) return;
    if (queue.cancelled) w.reject(streamEndedError());
    else w.resolve();
  };
  const queue: AsyncQueue<T> = new AsyncQueue<T>({ onPull: () => queue.size < HIGH_WATER && wake(), onCancel: wake });
  const sink: StreamSink<T> = {
    send(message) {
      if (queue.cancelled) throw streamEndedError();
      queue.push(message);
      return queue.size < HIGH_WATER;
    },
    ready() {
      if (queue.cancelled) return Promise.reject(streamEndedError());
      if (queue.size < HIGH_WATER) return Promise.resolve();
      return new Promise((resolve, reject) => (waiter = { resolve, reject }));
    },
  };
  let started = false;
  const iterator = queue[Symbol.asyncIterator]();
  return {
    next() {
      if (!started) {
        started = true;
        runProducer(produce, sink).then(
          () => queue.end(),
          (err: unknown) => queue.fail(err),
        );
      }
      return iterator.next();
    },
    return(value?: unknown) {
      const r = iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined });
      wake();
      return r as Promise<IteratorResult<T>>;
    },
  };
}

/** Runs `produce` with `sink`; a synchronous throw becomes a rejection. */
export function runProducer<T>(produce: StreamProducer<T>, sink: StreamSink<T>): Promise<void> {
  try {
    return Promise.resolve(produce(sink));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * A transport's side of a streamed response: it encodes each message into
 * its own buffers and applies its flow control.
 */
export interface ResponseSink {
  /**
   * Encodes and queues one message (a message of the output type or its
   * init object). Returns false when the producer should await
   * {@link ready}. Throws when the message cannot be sent (encoding error,
   * over the peer's limit), after ending the call with that error.
   */
  write(value: unknown): boolean;
  /** Resolves when more messages may be written, or once the call has ended. */
  ready(): Promise<void>;
  /** True once the call has ended (cancelled, failed, deadline). */
  readonly ended: boolean;
  /** Resolves once every message written so far is handed to the connection (a sink holding messages past a flow-control window), before the status goes out. */
  settle?(): Promise<void>;
}

/**
 * Sends `messages` into `sink`: a {@link pushStream}'s producer runs
 * directly against the sink (no promise per message); any other
 * `AsyncIterable` is read message by message, waiting on the sink's
 * backpressure. Resolves when the stream ended normally or the call ended
 * first (the handler's generator is then closed, so its `finally` blocks
 * run); rejects with what the handler threw, or the sink's error.
 */
export function pipeResponse(messages: AsyncIterable<unknown>, sink: ResponseSink): Promise<void> {
  const produce = pushProducer(messages);
  if (produce === undefined) return pumpIterable(messages, sink);
  const handlerSink: StreamSink<unknown> = {
    send(message) {
      if (sink.ended) throw streamEndedError();
      return sink.write(message);
    },
    ready() {
      if (sink.ended) return Promise.reject(streamEndedError());
      return sink.ready().then(() => {
        if (sink.ended) throw streamEndedError();
      });
    },
  };
  return runProducer(produce, handlerSink).then(
    () => (sink.settle !== undefined && !sink.ended ? sink.settle() : undefined),
    (err: unknown) => {
      // A producer stopped by the end of the call (its send() or ready() threw) is not an error of the call.
      if (!sink.ended) throw err;
    },
  );
}

async function pumpIterable(messages: AsyncIterable<unknown>, sink: ResponseSink): Promise<void> {
  const iterator = messages[Symbol.asyncIterator]();
  let handlerFailed = false;
  try {
    while (true) {
      let r: IteratorResult<unknown>;
      try {
        r = await iterator.next();
      } catch (err) {
        handlerFailed = true;
        throw err;
      }
      if (r.done === true || sink.ended) break;
      if (!sink.write(r.value)) await sink.ready();
      if (sink.ended) break;
    }
  } finally {
    if (!handlerFailed && sink.ended) await closeQuietly(iterator);
  }
}

async function closeQuietly(iterator: AsyncIterator<unknown>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // the call is over; what the generator's finally blocks throw has nobody to go to
  }
}
