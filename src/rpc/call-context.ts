import { AsyncLocalStorage } from "node:async_hooks";
import type { MethodInfo } from "../contract/method-info.js";
import { Code } from "./code.js";
import { FerryError } from "./ferry-error.js";
import { Metadata } from "./metadata.js";

/** A typed key for per-call values (see {@link CallContext.values}). */
export interface ContextKey<T> {
  readonly id: symbol;
  readonly defaultValue: T;
}

/** Creates a {@link ContextKey}; `description` names it in debuggers. */
export function createContextKey<T>(defaultValue: T, description = "ferry context key"): ContextKey<T> {
  return { id: Symbol(description), defaultValue };
}

/** Typed per-call values shared by interceptors and the handler. */
export class ContextValues {
  // Allocated on first write: most calls store nothing.
  #map: Map<symbol, unknown> | undefined;
  /** The value under `key`, or its default. */
  get<T>(key: ContextKey<T>): T {
    const map = this.#map;
    return map !== undefined && map.has(key.id) ? (map.get(key.id) as T) : key.defaultValue;
  }
  /** Stores `value` under `key`. */
  set<T>(key: ContextKey<T>, value: T): this {
    (this.#map ??= new Map()).set(key.id, value);
    return this;
  }
  /** Removes `key`'s value. */
  delete(key: ContextKey<unknown>): this {
    this.#map?.delete(key.id);
    return this;
  }
}

/** What a server transport knows about a call when it starts. */
export interface CallContextInit {
  method: MethodInfo;
  requestMetadata: Metadata;
  /** Absolute deadline, ms since the Unix epoch; `undefined` for none. */
  deadline: number | undefined;
  /** The caller's address, e.g. `"127.0.0.1:53412"`, `"unix:/tmp/s.sock"` or `"inproc"`. */
  peer: string;
  /** The transport's name: `"grpc"`, `"native"` or `"inproc"`. */
  transport: string;
}

/**
 * The server side of one call, handed to every handler as its second
 * argument and available to interceptors as `request.context`.
 *
 * It carries the request metadata, the response headers and trailers the
 * handler may add to (headers until the first response message is sent,
 * trailers until the handler returns), the deadline, and an `AbortSignal`
 * that fires when the client cancels, the deadline passes or the server shuts
 * down. Its `reason` is a FerryError: CANCELLED or DEADLINE_EXCEEDED (gRPC
 * PROTOCOL-HTTP2: the server cancels the call when `grpc-timeout` elapses).
 *
 * Calls made by a handler through a Ferry client inherit the remaining
 * deadline and the cancellation of this context (deadline propagation): the
 * client finds it through `AsyncLocalStorage`, or takes it from the call
 * option `parent`.
 */
export class CallContext {
  /** The method being served. */
  readonly method: MethodInfo;
  /** Request headers sent by the client (custom metadata only). */
  readonly requestMetadata: Metadata;
  /** Response headers to send; add to them before the first response message. */
  readonly responseHeaders = new Metadata();
  /** Response trailers to send with the status. */
  readonly responseTrailers = new Metadata();
  /** Absolute deadline in ms since the Unix epoch, or `undefined` for none. */
  readonly deadline: number | undefined;
  /** The caller's address. */
  readonly peer: string;
  /** The transport that carried the call. */
  readonly transport: string;
  /** When the call arrived: `performance.now()` (ms), for durations (the failed-call log line). */
  readonly startMs = performance.now();
  #controller: AbortController | undefined;
  #reason: FerryError | undefined;
  #values: ContextValues | undefined;
  #onAbort: ((reason: FerryError) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #done = false;

  constructor(init: CallContextInit) {
    this.method = init.method;
    this.requestMetadata = init.requestMetadata;
    this.deadline = init.deadline;
    this.peer = init.peer;
    this.transport = init.transport;
  }

  /** Fires on cancellation or deadline; created on first access. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** True once the call was cancelled or its deadline passed. */
  get aborted(): boolean {
    return this.#reason !== undefined;
  }

  /** The cancellation reason, once aborted. */
  get abortReason(): FerryError | undefined {
    return this.#reason;
  }

  /** Per-call values keyed by {@link ContextKey}. */
  get values(): ContextValues {
    return (this.#values ??= new ContextValues());
  }

  /** Milliseconds left until the deadline (never negative), or `undefined` without one. */
  timeRemainingMs(): number | undefined {
    return this.deadline === undefined ? undefined : Math.max(0, this.deadline - Date.now());
  }

  /**
   * Cancels the call with `reason`; only the first reason counts.
   * @internal transports and the server call this.
   */
  abort(reason: FerryError): void {
    if (this.#reason !== undefined || this.#done) return;
    this.#reason = reason;
    this.#clearTimer();
    this.#controller?.abort(reason);
    this.#onAbort?.(reason);
  }

  /**
   * Registers the transport's reaction to an abort (one per context), and
   * starts the deadline timer if the call has a deadline.
   * @internal
   */
  arm(onAbort: ((reason: FerryError) => void) | undefined): void {
    this.#onAbort = onAbort;
    if (this.deadline === undefined || this.#reason !== undefined) return;
    const remaining = this.deadline - Date.now();
    const expire = () => this.abort(deadlineExceeded());
    if (remaining <= 0) expire();
    else this.#timer = setTimeout(expire, remaining);
  }

  /**
   * Marks the call finished: stops the deadline timer; later aborts are ignored.
   * @internal
   */
  finish(): void {
    this.#clearTimer();
    this.#onAbort = undefined;
    this.#done = true;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}

function deadlineExceeded(): FerryError {
  return new FerryError(Code.DEADLINE_EXCEEDED, "deadline exceeded");
}

/** Holds the {@link CallContext} of the handler running now. */
export const callContextStorage = new AsyncLocalStorage<CallContext>();

/** The {@link CallContext} of the server call whose handler is running, if any. */
export function currentCallContext(): CallContext | undefined {
  return callContextStorage.getStore();
}
