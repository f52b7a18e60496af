import type { Msg, MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";
import { decodeBinary, encodeBinary, toMessage } from "../../contract/codec.js";
import type { UnaryResponse } from "../../rpc/call.js";
import { CallContext } from "../../rpc/call-context.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Router } from "../../rpc/router.js";
import { createServerRequest } from "../../rpc/server-request.js";
import type { ListeningAddress, ServerTransport } from "../../rpc/server-transport.js";
import { importPeer } from "../../messaging/adapter-registry.js";
import { connectNats } from "../../messaging/nats/nats-connection.js";
import type { NatsRpcOptions } from "./nats-rpc-wire.js";
import { defaultRpcPrefix, encodeMessage, natsRpcHeader, readMetadata, writeMetadata } from "./nats-rpc-wire.js";

/** Options of {@link createNatsServerTransport}. */
export interface NatsServerTransportOptions extends NatsRpcOptions {
  /** Queue group name prefix; instances with the same one share calls. Defaults to the subject prefix. */
  queue?: string;
}

/**
 * Serves a Ferry server's unary methods on NATS subjects
 * (`server.listen("nats://127.0.0.1:4222")`): one queue-group subscription
 * per service on `<prefix>.<package.Service>.*`, so several instances share
 * the calls. Each request runs through the server's router (interceptors,
 * deadline from `ferry-timeout-ms`, error normalisation) like on any other
 * transport. Streaming methods answer UNIMPLEMENTED.
 */
export async function createNatsServerTransport(url: URL, options: NatsServerTransportOptions = {}): Promise<ServerTransport> {
  const transport = await importPeer("@nats-io/transport-node", () => import("@nats-io/transport-node"));
  const prefix = options.prefix ?? url.searchParams.get("prefix") ?? defaultRpcPrefix;
  return new NatsServerTransport(url, transport.headers, prefix, options.queue ?? url.searchParams.get("queue") ?? prefix, options.connectionName ?? "ferry-rpc-server");
}

class NatsServerTransport implements ServerTransport {
  #nc: NatsConnection | undefined;
  readonly #subs: Subscription[] = [];
  readonly #inFlight = new Set<CallContext>();
  readonly #running = new Set<Promise<void>>();

  constructor(
    private readonly url: URL,
    private readonly headers: () => MsgHdrs,
    private readonly prefix: string,
    private readonly queue: string,
    private readonly name: string,
  ) {}

  async start(router: Router): Promise<ListeningAddress> {
    const nc = (this.#nc = await connectNats(this.url, this.name));
    for (const service of router.services()) {
      const sub = nc.subscribe(`${this.prefix}.${service.typeName}.*`, {
        queue: `${this.queue}.${service.typeName}`,
        callback: (err, msg) => {
          if (err !== null) return;
          const run = this.#serve(router, service.typeName, msg).finally(() => this.#running.delete(run));
          this.#running.add(run);
        },
      });
      this.#subs.push(sub);
    }
    await nc.flush();
    return { url: `nats://${this.url.host}?prefix=${this.prefix}`, transport: "nats" };
  }

  async #serve(router: Router, serviceName: string, msg: Msg): Promise<void> {
    const methodName = msg.subject.slice(this.prefix.length + serviceName.length + 2);
    const path = `/${serviceName}/${methodName}`;
    const entry = router.lookup(path);
    if (entry === undefined) return this.#replyError(msg, router.unknownPathError(path));
    if (entry.info.requestStream || entry.info.responseStream) {
      return this.#replyError(msg, new FerryError(Code.UNIMPLEMENTED, `the nats transport serves unary methods only; ${path} is ${entry.info.kind}`));
    }
    const timeout = Number(msg.headers?.get(natsRpcHeader.timeoutMs) ?? "");
    const ctx = new CallContext({
      method: entry.info,
      requestMetadata: readMetadata(msg.headers),
      deadline: Number.isFinite(timeout) && timeout > 0 ? Date.now() + timeout : undefined,
      peer: "nats",
      transport: "nats",
    });
    ctx.arm(undefined);
    this.#inFlight.add(ctx);
    try {
      const input = decodeBinary(entry.info.input, msg.data);
      const res = (await router.dispatch(entry, createServerRequest(ctx, input))) as UnaryResponse;
      const h = this.headers();
      h.set(natsRpcHeader.status, "0");
      writeMetadata(h, ctx.responseHeaders, natsRpcHeader.headerPrefix);
      writeMetadata(h, ctx.responseTrailers, natsRpcHeader.trailerPrefix);
      msg.respond(encodeBinary(entry.info.output, toMessage(entry.info.output, res.message)), { headers: h });
    } catch (err) {
      this.#replyError(msg, router.withTrailers(router.toWireError(err, ctx), ctx));
    } finally {
      ctx.finish();
      this.#inFlight.delete(ctx);
    }
  }

  #replyError(msg: Msg, err: FerryError): void {
    const h = this.headers();
    h.set(natsRpcHeader.status, String(err.code));
    h.set(natsRpcHeader.message, encodeMessage(err.rawMessage));
    writeMetadata(h, err.metadata, natsRpcHeader.trailerPrefix);
    msg.respond(new Uint8Array(0), { headers: h });
  }

  async shutdown(graceMs: number): Promise<void> {
    await Promise.all(this.#subs.map((s) => s.drain().catch(() => undefined)));
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.#running]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      for (const ctx of this.#inFlight) ctx.abort(new FerryError(Code.UNAVAILABLE, "server shutting down"));
      await Promise.allSettled([...this.#running]);
    }
    await this.#nc?.drain().catch(() => this.#nc?.close());
  }
}
