import type { ConnectionOptions } from "node:tls";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { tlsOptionsFromUrl } from "../../util/tls-url-options.js";
import type { AmqpQueueType } from "./amqp-topology.js";

/**
 * Options of the `amqp://` adapter, from `BrokerOptions.adapterOptions` or,
 * with the same names, the broker URL's query
 * (`amqp://guest:guest@127.0.0.1:5672?exchange=shop&queueType=quorum`).
 * Other query parameters (`heartbeat`, `frameMax`, …) go to amqplib.
 * Credentials: `amqp://user:password@host/vhost` (percent-encoded, SASL
 * PLAIN); TLS: `amqps://host:5671`, with `tls_ca`, `tls_cert`, `tls_key`,
 * `tls_servername` (see {@link AmqpAdapterOptions.tls}).
 */
export interface AmqpAdapterOptions {
  /** The topic exchange of this namespace (durable, type `topic`). Default `"ferry"`. */
  readonly exchange: string;
  /** Queue type of consumer groups' queues. Default `"auto"` (quorum on RabbitMQ ≥ 3.8). */
  readonly queueType: AmqpQueueType;
  /** Largest message (payload plus headers) accepted by `publish`, in bytes. Default 128 MiB, RabbitMQ's default `max_message_size`. */
  readonly maxMessageBytes: number;
  /**
   * Longest wait for a publisher confirm, in ms, e.g. while RabbitMQ blocks
   * publishers on a memory or disk alarm. Default 10000. After it, `publish`
   * rejects with UNAVAILABLE (the message may still be stored: a retry can
   * duplicate it).
   */
  readonly publishTimeoutMs: number;
  /**
   * TLS client options for `amqps://` (amqplib passes them to `tls.connect`):
   * from the URL's `tls_ca`, `tls_cert`, `tls_key` (PEM files) and
   * `tls_servername`, with `adapterOptions.tls` (node:tls options) merged
   * over them; `{}` (the system CAs) for a bare `amqps://`. Undefined for
   * `amqp://`, where TLS options raise INVALID_ARGUMENT. See `tlsOptionsFromUrl`.
   */
  readonly tls: ConnectionOptions | undefined;
}

const ownKeys = ["exchange", "queueType", "maxMessageBytes", "publishTimeoutMs"] as const;

/** Reads and checks the adapter's options; raises INVALID_ARGUMENT naming the bad one. Returns the URL for amqplib without them. */
export function parseAmqpOptions(url: URL, adapterOptions: Readonly<Record<string, unknown>>): { options: AmqpAdapterOptions; connectUrl: string } {
  const raw: Record<string, unknown> = {};
  const connect = new URL(url.href);
  for (const key of ownKeys) {
    const fromQuery = connect.searchParams.get(key);
    if (fromQuery !== null) raw[key] = fromQuery;
    connect.searchParams.delete(key);
    if (adapterOptions[key] !== undefined) raw[key] = adapterOptions[key];
  }
  const tls = tlsOptionsFromUrl(connect, adapterOptions.tls, connect.protocol === "amqps:", "amqp adapter");
  const exchange = String(raw.exchange ?? "ferry");
  if (!/^[A-Za-z0-9_.:-]{1,127}$/.test(exchange) || exchange.startsWith("amq.")) {
    throw invalid(`exchange "${exchange}" is invalid: 1–127 letters, digits, "_", ".", ":" or "-", not starting with "amq."`);
  }
  const queueType = String(raw.queueType ?? "auto");
  if (queueType !== "auto" && queueType !== "quorum" && queueType !== "classic") {
    throw invalid(`queueType "${queueType}" is invalid: use "auto", "quorum" or "classic"`);
  }
  const maxMessageBytes = Number(raw.maxMessageBytes ?? 128 * 1024 * 1024);
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1) throw invalid("maxMessageBytes must be an integer ≥ 1");
  const publishTimeoutMs = Number(raw.publishTimeoutMs ?? 10_000);
  if (!Number.isInteger(publishTimeoutMs) || publishTimeoutMs < 1) throw invalid("publishTimeoutMs must be an integer ≥ 1");
  return { options: { exchange, queueType, maxMessageBytes, publishTimeoutMs, tls }, connectUrl: connect.href };
}

function invalid(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `amqp adapter: ${message}`);
}
