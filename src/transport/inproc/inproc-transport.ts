import type { Message } from "@bufbuild/protobuf";
import type { AnyRequest, AnyResponse, StreamResponse } from "../../rpc/call.js";
import { CallContext } from "../../rpc/call-context.js";
import type { ClientTransport } from "../../rpc/client-transport.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Router } from "../../rpc/router.js";
import type { Server } from "../../rpc/server.js";
import { createServerRequest } from "../../rpc/server-request.js";

/**
 * A client transport that calls a server in the same process, without
 * sockets or serialisation, through the server's interceptors, deadlines,
 * cancellation and error handling — the same semantics as over the network.
 *
 * Messages are passed by reference: a handler must not mutate its request,
 * and a client must not mutate a response it shares. The peer address is
 * `"inproc"`. Calls fail with UNIMPLEMENTED for an unknown method, and with
 * UNAVAILABLE after {@link ClientTransport.close} or once the server is
 * shutting down. A cancelled or expired call rejects at once, even if its
 * handler ignores its signal.
 */
export function createInProcessTransport(server: Server | Router): ClientTransport {
  return "router" in server ? new InProcessTransport(server.router, server) : new InProcessTransport(server, undefined);
}

class InProcessTransport implements ClientTransport {
  readonly transportName = "inproc";
  #closed = false;

  constructor(
    private readonly router: Router,
    private readonly server: Server | undefined,
  ) {}

  call(request: AnyRequest): Promise<AnyResponse> {
    if (this.#closed || (this.server !== undefined && this.server.state !== "serving")) {
      return Promise.reject(new FerryError(Code.UNAVAILABLE, "in-process server is not serving"));
    }
    const entry = this.router.lookup(request.method.path);
    if (entry === undefined) return Promise.reject(this.router.unknownPathError(request.method.path));
    const ctx = new CallContext({
      method: entry.info,
      requestMetadata: request.metadata,
      deadline: request.deadline,
      peer: "inproc",
      transport: "inproc",
    });
    const input = request.stream ? request.messages : request.message;
    const signal = request.signal;
    if (signal === undefined) {
      return this.router.run(entry, createServerRequest(ctx, input)).then(
        (res) => (entry.info.responseStream ? this.#wrapStream(res as StreamResponse, ctx) : (ctx.finish(), res)),
        (err: unknown) => {
          ctx.finish();
          throw this.router.withTrailers(this.router.toWireError(err, ctx), ctx);
        },
      );
    }
    const dispatched = this.router.dispatch(entry, createServerRequest(ctx, input)).catch((err: FerryError) => {
      throw this.router.withTrailers(err, ctx);
    });
    return this.#withSignal(dispatched, ctx, signal);
  }

  #withSignal(dispatched: Promise<AnyResponse>, ctx: CallContext, signal: AbortSignal): Promise<AnyResponse> {
    return new Promise<AnyResponse>((resolve, reject) => {
      const onAbort = () => {
        const reason = FerryError.from(signal.reason);
        ctx.abort(reason);
        reject(reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      dispatched.then(
        (res) => {
          if (!ctx.method.responseStream) {
            signal.removeEventListener("abort", onAbort);
            ctx.finish();
            resolve(res);
          } else resolve(this.#wrapStream(res as StreamResponse, ctx));
        },
        (err: unknown) => {
          signal.removeEventListener("abort", onAbort);
          ctx.finish();
          reject(err);
        },
      );
    });
  }

  #wrapStream(res: StreamResponse, ctx: CallContext): StreamResponse {
    return { ...res, messages: finishing(this.router, this.router.normalizeStream(ctx, res.messages), ctx) };
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}

async function* finishing(router: Router, messages: AsyncIterable<Message>, ctx: CallContext): AsyncIterable<Message> {
  const it = messages[Symbol.asyncIterator]();
  const aborted = new Promise<never>((_, reject) => {
    if (ctx.aborted) reject(ctx.abortReason);
    else ctx.signal.addEventListener("abort", () => reject(ctx.abortReason), { once: true });
  });
  aborted.catch(() => undefined);
  try {
    while (true) {
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) return;
      yield r.value;
    }
  } catch (err) {
    throw router.withTrailers(err as FerryError, ctx);
  } finally {
    ctx.finish();
    void Promise.resolve(it.return?.()).catch(() => undefined);
  }
}
