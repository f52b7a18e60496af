import type { Message } from "@bufbuild/protobuf";
import { toMessage } from "../contract/codec.js";
import type { AnyRequest, AnyResponse } from "../rpc/call.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Interceptor } from "../rpc/interceptor.js";
import { Metadata } from "../rpc/metadata.js";
import { isCircuitOpenError } from "./circuit-open-error.js";
import { ResilienceEvents } from "./events.js";
import { finishResponse, type ExecuteContext, type ExecuteOptions } from "./policy.js";

/**
 * Codes a fallback answers by default: the dependency is down, slow or
 * overloaded (UNAVAILABLE — which includes an open circuit breaker —,
 * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNKNOWN, INTERNAL). Answers about the
 * request itself (NOT_FOUND, INVALID_ARGUMENT, …) pass through.
 */
export const DEFAULT_FALLBACK_CODES: readonly Code[] = Object.freeze([
  Code.UNAVAILABLE,
  Code.DEADLINE_EXCEEDED,
  Code.RESOURCE_EXHAUSTED,
  Code.UNKNOWN,
  Code.INTERNAL,
]);

/** Options of {@link FallbackPolicy}. */
export interface FallbackOptions<T> {
  /** Produces the degraded result from the failure. Required. */
  handler: (error: FerryError) => T | Promise<T>;
  /** Codes the fallback answers. Default {@link DEFAULT_FALLBACK_CODES}. */
  codes?: readonly Code[];
  /** Whether a circuit breaker's rejection is answered whatever `codes` says. Default true. */
  onCircuitOpen?: boolean;
  /** Where events go. Default: a new emitter, as `policy.events`. */
  events?: ResilienceEvents;
  /** Name carried in events. */
  name?: string;
}

/**
 * Degradation: when the work fails with one of `codes` (or a circuit breaker
 * is open), answers with `handler(error)` instead. Never answers a call the
 * caller cancelled. It has the shape of a {@link Policy} for one result type
 * `T` (so it is not accepted by `wrap`). If the handler throws, the call fails with the handler's
 * error (normalised with `FerryError.from`).
 */
export class FallbackPolicy<T> {
  /** The events of this policy. */
  readonly events: ResilienceEvents;
  readonly #handler: (error: FerryError) => T | Promise<T>;
  readonly #codes: ReadonlySet<Code>;
  readonly #onCircuitOpen: boolean;
  readonly #name: string | undefined;

  constructor(options: FallbackOptions<T>) {
    if (typeof options.handler !== "function") throw new FerryError(Code.INVALID_ARGUMENT, "fallback: handler must be a function");
    this.#handler = options.handler;
    this.#codes = new Set(options.codes ?? DEFAULT_FALLBACK_CODES);
    this.#onCircuitOpen = options.onCircuitOpen ?? true;
    this.events = options.events ?? new ResilienceEvents();
    this.#name = options.name;
  }

  /** Whether the fallback answers `error`. */
  applies(error: FerryError): boolean {
    return this.#codes.has(error.code) || (this.#onCircuitOpen && isCircuitOpenError(error));
  }

  /** Runs `fn`, answering its failure with the configured handler when {@link applies} says so. */
  execute(fn: (ctx: ExecuteContext) => Promise<T>, options: ExecuteOptions<T> = {}): Promise<T> {
    return this.executeWith(fn, this.#handler, options);
  }

  /** Like {@link execute}, answering with `handler` instead of the configured one (for per-call fallbacks). */
  async executeWith(fn: (ctx: ExecuteContext) => Promise<T>, handler: (error: FerryError) => T | Promise<T>, options: ExecuteOptions<T> = {}): Promise<T> {
    try {
      return await fn({ signal: options.signal, deadline: options.deadline, attempt: 1 });
    } catch (err) {
      const error = FerryError.from(err);
      if (options.signal?.aborted === true && error.code === Code.CANCELLED) throw error;
      if (!this.applies(error)) throw error;
      this.events.emit({ type: "fallback.used", policy: this.#name, method: options.method, error });
      try {
        return await handler(error);
      } catch (handlerError) {
        throw FerryError.from(handlerError);
      }
    }
  }
}

/** What a fallback interceptor answers with: a response message (an init object of the method's output type is fine). */
export type FallbackValue = Message | Record<string, unknown>;

/** Options of {@link createFallbackInterceptor}. */
export interface FallbackInterceptorOptions extends Omit<FallbackOptions<AnyResponse>, "handler"> {
  /**
   * The response message, static or computed from the failure and the
   * request: a message or an init object of the method's output type. A
   * server-streaming method answers a stream of that one message. Required.
   */
  response: FallbackValue | ((error: FerryError, request: AnyRequest) => FallbackValue | Promise<FallbackValue>);
}

/**
 * A client interceptor answering failed calls with a fallback response (see
 * {@link FallbackPolicy}). The response has empty headers and trailers
 * except the trailer `ferry-fallback: <code name>` so that callers can tell
 * a degraded answer apart.
 */
export function createFallbackInterceptor(options: FallbackInterceptorOptions): Interceptor {
  const { response } = options;
  const policy = new FallbackPolicy<AnyResponse>({ ...options, handler: unreachable });
  return (next) => (request) =>
    policy.executeWith(
      (ctx) => next(ctx.signal === request.signal ? request : { ...request, signal: ctx.signal }),
      async (error) => fallbackResponse(request, typeof response === "function" ? await response(error, request) : response, error),
      { signal: request.signal, method: request.method.path, finish: finishResponse },
    );
}

function unreachable(error: FerryError): never {
  throw error;
}

function fallbackResponse(request: AnyRequest, value: FallbackValue, error: FerryError): AnyResponse {
  const message = toMessage(request.method.output, value);
  const headers = new Metadata();
  const trailers = new Metadata({ "ferry-fallback": Code[error.code] });
  if (!request.method.responseStream) return { stream: false, message, headers, trailers };
  return { stream: true, messages: once(message), headers, trailers };
}

async function* once(message: Message): AsyncIterable<Message> {
  yield message;
}
