import { context, type Context } from "@opentelemetry/api";
import type { AnyRequest, AnyResponse, CallHandler } from "../rpc/call.js";
import type { CallRecord } from "./call-record.js";
import { observeStream } from "./observed-stream.js";

/**
 * Runs the rest of the chain for one observed call — inside `spanContext`
 * when the call is traced — and finishes `record` when the call ends: at
 * once for a unary response or an error, at the end of a streamed response
 * (whose `next()` calls re-enter `streamContext`, when given).
 */
export function observeCall(next: CallHandler, req: AnyRequest, record: CallRecord, spanContext: Context | undefined, streamContext: Context | undefined): Promise<AnyResponse> {
  let sent: Promise<AnyResponse>;
  try {
    sent = spanContext === undefined ? next(req) : context.with(spanContext, next, undefined, req);
  } catch (err) {
    record.finish(err);
    return Promise.reject(err);
  }
  return sent.then(
    (res) => {
      if (!res.stream) {
        record.finish();
        return res;
      }
      return { stream: true, messages: observeStream(res.messages, record, streamContext), headers: res.headers, trailers: res.trailers };
    },
    (err: unknown) => {
      record.finish(err);
      throw err;
    },
  );
}
