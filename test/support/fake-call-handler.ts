import { create } from "@bufbuild/protobuf";
import { methodInfo } from "../../src/contract/method-info.js";
import type { AnyRequest, AnyResponse, CallHandler } from "../../src/rpc/call.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { Metadata } from "../../src/rpc/metadata.js";
import { EchoRequestSchema, EchoResponseSchema, EchoService } from "../gen/ferry/test/v1/echo_pb.js";

/** Method infos of the test EchoService. */
export const echoMethods = {
  echo: methodInfo(EchoService.method.echo),
  serverStream: methodInfo(EchoService.method.serverStream),
  clientStream: methodInfo(EchoService.method.clientStream),
  bidi: methodInfo(EchoService.method.bidi),
};

/** A client request of the EchoService (unary by default). */
export function echoRequest(options: { method?: keyof typeof echoMethods; signal?: AbortSignal; deadline?: number; text?: string } = {}): AnyRequest {
  const method = echoMethods[options.method ?? "echo"];
  const common = { method, metadata: new Metadata(), deadline: options.deadline, signal: options.signal, context: undefined };
  if (method.requestStream) {
    return { ...common, stream: true, messages: (async function* () {})() };
  }
  return { ...common, stream: false, message: create(EchoRequestSchema, { text: options.text ?? "hi" }) };
}

/** A unary EchoResponse. */
export function echoResponse(text = "ok"): AnyResponse {
  return { stream: false, message: create(EchoResponseSchema, { text }), headers: new Metadata(), trailers: new Metadata() };
}

/** One call the fake handler received and has not answered yet. */
export interface PendingCall {
  readonly request: AnyRequest;
  /** 1-based index among all calls the handler received. */
  readonly index: number;
  resolve(response?: AnyResponse): void;
  reject(error: FerryError): void;
  /** True once the request's signal fired. */
  readonly cancelled: boolean;
}

/**
 * A fake `next` CallHandler the test controls: every call stays pending
 * until the test answers it, or is answered by `script` when given. It
 * honours the request's signal like a real transport: when the signal fires,
 * the call rejects with its reason and leaves no listener behind.
 */
export class FakeCallHandler {
  readonly calls: PendingCall[] = [];
  readonly script: ((call: PendingCall) => void) | undefined;

  constructor(script?: (call: PendingCall) => void) {
    this.script = script;
  }

  readonly handler: CallHandler = (request) =>
    new Promise<AnyResponse>((resolve, reject) => {
      const signal = request.signal;
      let settled = false;
      let cancelled = false;
      const done = (): boolean => {
        if (settled) return false;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        return true;
      };
      const onAbort = (): void => {
        cancelled = true;
        if (done()) reject(signal!.reason);
      };
      const call: PendingCall = {
        request,
        index: this.calls.length + 1,
        resolve: (response = echoResponse()) => done() && resolve(response),
        reject: (error) => done() && reject(error),
        get cancelled() {
          return cancelled;
        },
      };
      this.calls.push(call);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.script?.(call);
    });

  /** The most recent call. */
  get last(): PendingCall {
    return this.calls[this.calls.length - 1];
  }
}

/** Lets pending promise callbacks run (fake timers do not advance). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
