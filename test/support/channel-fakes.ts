import { create } from "@bufbuild/protobuf";
import { methodInfo } from "../../src/contract/method-info.js";
import type { AnyRequest, AnyResponse } from "../../src/rpc/call.js";
import type { ClientTransport } from "../../src/rpc/client-transport.js";
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { Metadata } from "../../src/rpc/metadata.js";
import type { BalancedSubchannel } from "../../src/channel/balancer.js";
import type { Endpoint, Resolver, ResolverListener } from "../../src/channel/resolver.js";
import { EchoRequestSchema, EchoResponseSchema, EchoService } from "../gen/ferry/test/v1/echo_pb.js";

/** A balancer's view of a subchannel whose load figures a test sets. */
export interface FakeSubchannel extends BalancedSubchannel {
  activeCalls: number;
  latencyEwmaMs: number | undefined;
}

/** An endpoint whose instanceId is its URL. */
export function endpoint(url: string, weight = 1): Endpoint {
  return { url, instanceId: url, weight, metadata: {} };
}

/** A fake subchannel for balancer tests. */
export function fakeSubchannel(url: string, options: { weight?: number; activeCalls?: number; latencyEwmaMs?: number } = {}): FakeSubchannel {
  return { endpoint: endpoint(url, options.weight), activeCalls: options.activeCalls ?? 0, latencyEwmaMs: options.latencyEwmaMs };
}

const echo = methodInfo(EchoService.method.echo);

/** A unary Echo request with the given metadata, deadline and signal. */
export function echoCall(options: { metadata?: Record<string, string>; deadline?: number; signal?: AbortSignal; text?: string } = {}): AnyRequest {
  return {
    method: echo,
    metadata: new Metadata(options.metadata),
    deadline: options.deadline,
    signal: options.signal,
    context: undefined,
    stream: false,
    message: create(EchoRequestSchema, { text: options.text ?? "hi" }),
  };
}

/** A resolver the test drives: `update()` and `fail()` reach the channel's listener. */
export class FakeResolver implements Resolver {
  listener: ResolverListener | undefined;
  closed = false;

  watch(listener: ResolverListener): void {
    this.listener = listener;
  }

  update(...urls: (string | Endpoint)[]): void {
    this.listener?.onUpdate(urls.map((u) => (typeof u === "string" ? endpoint(u) : u)));
  }

  fail(message: string): void {
    this.listener?.onError(new FerryError(Code.UNAVAILABLE, message));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * A fake transport per endpoint: answers every call with the endpoint's URL
 * as text, unless `failWith` is set; counts calls; records close().
 */
export class FakeTransport implements ClientTransport {
  calls = 0;
  closed = false;
  failWith: FerryError | undefined;
  /** When set, calls wait for this promise before answering. */
  gate: Promise<void> | undefined;

  constructor(readonly url: string) {}

  async call(_request: AnyRequest): Promise<AnyResponse> {
    this.calls++;
    if (this.gate !== undefined) await this.gate;
    if (this.failWith !== undefined) throw this.failWith;
    return { stream: false, message: create(EchoResponseSchema, { text: this.url }), headers: new Metadata(), trailers: new Metadata() };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A `transportFor` that creates and keeps one FakeTransport per URL. */
export function fakeTransports(): { transports: Map<string, FakeTransport>; transportFor: (e: Endpoint) => FakeTransport } {
  const transports = new Map<string, FakeTransport>();
  return {
    transports,
    transportFor: (e) => {
      const t = new FakeTransport(e.url);
      transports.set(e.url, t);
      return t;
    },
  };
}

/** A connection-refused error as a transport reports it: UNAVAILABLE caused by ECONNREFUSED. */
export function refused(url: string): FerryError {
  const cause = Object.assign(new Error(`connect ECONNREFUSED ${url}`), { code: "ECONNREFUSED" });
  return new FerryError(Code.UNAVAILABLE, `connection failed: ${cause.message}`, { cause });
}
