import type { NatsConnection } from "@nats-io/transport-node";
import { decodeBinary, encodeBinary } from "../../contract/codec.js";
import type { AnyRequest, AnyResponse } from "../../rpc/call.js";
import type { ClientTransport } from "../../rpc/client-transport.js";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { importPeer } from "../../messaging/adapter-registry.js";
import { connectNats } from "../../messaging/nats/nats-connection.js";
import type { NatsRpcOptions } from "./nats-rpc-wire.js";
import { defaultRpcPrefix, natsRpcHeader, readMetadata, replyError, rpcSubject, writeMetadata } from "./nats-rpc-wire.js";

/** Options of {@link createNatsClientTransport}. */
export interface NatsClientTransportOptions extends NatsRpcOptions {
  /** Timeout of calls without a deadline, in ms. Defaults to 30000. */
  defaultTimeoutMs?: number;
}

/**
 * A client transport that sends unary calls as NATS requests to
 * `<prefix>.<package.Service>.<Method>` (see nats-rpc-wire.ts), so a Ferry
 * client can call a service whose only address is NATS:
 * `createClient(CartService, "nats://127.0.0.1:4222")`.
 *
 * Errors: UNAVAILABLE when no server subscribes to the subject (NATS "no
 * responders") or the connection is lost; DEADLINE_EXCEEDED when the
 * deadline (or `defaultTimeoutMs`) passes; UNIMPLEMENTED for streaming
 * methods (request/reply carries one message each way); the server's
 * status otherwise. Cancelling stops waiting for the reply (the server is
 * not told: core NATS has no cancel).
 */
export async function createNatsClientTransport(url: URL, options: NatsClientTransportOptions = {}): Promise<ClientTransport> {
  const nc = await connectNats(url, options.connectionName ?? "ferry-rpc-client");
  const transport = await importPeer("@nats-io/transport-node", () => import("@nats-io/transport-node"));
  return new NatsClientTransport(nc, transport.headers, options.prefix ?? url.searchParams.get("prefix") ?? defaultRpcPrefix, options.defaultTimeoutMs ?? 30_000);
}

class NatsClientTransport implements ClientTransport {
  readonly transportName = "nats";
  #closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly headers: typeof import("@nats-io/transport-node").headers,
    private readonly prefix: string,
    private readonly defaultTimeoutMs: number,
  ) {}

  async call(request: AnyRequest): Promise<AnyResponse> {
    if (this.#closed) throw new FerryError(Code.UNAVAILABLE, "NATS client transport is closed");
    const info = request.method;
    if (request.stream || info.responseStream) {
      throw new FerryError(Code.UNIMPLEMENTED, `the nats transport carries unary calls only; ${info.path} is ${info.kind}`);
    }
    const timeoutMs = request.deadline === undefined ? this.defaultTimeoutMs : request.deadline - Date.now();
    if (timeoutMs <= 0) throw new FerryError(Code.DEADLINE_EXCEEDED, "deadline exceeded before the call was sent");
    const h = this.headers();
    writeMetadata(h, request.metadata);
    if (request.deadline !== undefined) h.set(natsRpcHeader.timeoutMs, String(timeoutMs));
    const subject = rpcSubject(this.prefix, info.service.typeName, info.method.name);
    const reply = this.nc.request(subject, encodeBinary(info.input, request.message), { timeout: timeoutMs, headers: h });
    const msg = await withSignal(reply, request.signal).catch((err: unknown) => {
      throw toCallError(err, subject);
    });
    const error = replyError(msg.headers);
    if (error !== undefined) throw error;
    return {
      stream: false,
      message: decodeBinary(info.output, msg.data),
      headers: readMetadata(msg.headers, natsRpcHeader.headerPrefix),
      trailers: readMetadata(msg.headers, natsRpcHeader.trailerPrefix),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.nc.drain().catch(() => this.nc.close());
  }
}

function withSignal<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function toCallError(err: unknown, subject: string): FerryError {
  if (err instanceof FerryError) return err;
  const e = err as Error;
  if (e?.name === "AbortError" || e?.name === "TimeoutError") return FerryError.from(err);
  if (/NoResponders/.test(e?.name ?? "") || /no responders/i.test(e?.message ?? "")) {
    return new FerryError(Code.UNAVAILABLE, `no server answers on NATS subject ${subject}`, { cause: err });
  }
  if (/Timeout/.test(e?.name ?? "") || /timeout/i.test(e?.message ?? "")) {
    return new FerryError(Code.DEADLINE_EXCEEDED, "deadline exceeded waiting for the NATS reply", { cause: err });
  }
  return new FerryError(Code.UNAVAILABLE, `NATS request failed: ${e?.message ?? String(err)}`, { cause: err });
}
