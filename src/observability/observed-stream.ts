import { context, type Context } from "@opentelemetry/api";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { CallRecord } from "./call-record.js";

/**
 * Wraps a streamed response so that `record` finishes when the stream does:
 * OK at its end, the error's code when it throws, CANCELLED when the reader
 * stops early (`return()`). With `ctx`, each `next()` runs inside that
 * OpenTelemetry context, so a server handler's generator body — which the
 * transport iterates outside the interceptor — still sees its server span
 * as the active span (and calls it makes become its children).
 */
export function observeStream<T>(messages: AsyncIterable<T>, record: CallRecord, ctx: Context | undefined): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      const iterator = messages[Symbol.asyncIterator]();
      const onStep = (r: IteratorResult<T>): IteratorResult<T> => {
        if (r.done === true) record.finish();
        return r;
      };
      const onError = (err: unknown): never => {
        record.finish(err);
        throw err;
      };
      return {
        next: () => {
          let step: Promise<IteratorResult<T>>;
          try {
            step = ctx === undefined ? iterator.next() : context.with(ctx, () => iterator.next());
          } catch (err) {
            record.finish(err);
            return Promise.reject(err);
          }
          return step.then(onStep, onError);
        },
        return: async (value?: unknown) => {
          record.finish(new FerryError(Code.CANCELLED, "stream closed by the reader"));
          await iterator.return?.(value);
          return { done: true, value: undefined as T };
        },
      };
    },
  };
}
