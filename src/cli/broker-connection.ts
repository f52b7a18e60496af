import { pino } from "pino";
import type { BrokerAdapter } from "../messaging/adapter.js";
import { BrokerClient, createBroker, type Broker } from "../messaging/broker.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { CliUsageError } from "./cli-error.js";

/** URL schemes `ferry topics` and `ferry dlq` accept (those of Ferry's bundled broker adapters). */
export const BROKER_SCHEMES: readonly string[] = ["nats:", "amqp:", "amqps:", "redis:", "rediss:", "memory:"];

/**
 * How long a NATS pull request of the tool waits for messages, in ms (the
 * client's minimum). A message settled by `nack` after its consumer stopped
 * can be handed to the stopped consumer's pull request while that is still
 * open on the server, and then returns only after the ack timeout; the tool
 * keeps that window short and nacks such messages with a delay beyond it
 * ({@link releaseDelayMs}).
 */
const NATS_FETCH_EXPIRES_MS = 1000;

/**
 * The delay to nack a message with after its consumer stopped, so that it
 * comes back to the group at once: 2000 ms where the broker delays
 * redelivery itself (longer than a NATS pull request lives), else 0.
 */
export function releaseDelayMs(adapter: BrokerAdapter): number {
  return adapter.capabilities.delayedNack ? 2 * NATS_FETCH_EXPIRES_MS : 0;
}

/** An open broker for one command: the broker-neutral client and its adapter. */
export interface BrokerConnection {
  /** The broker-neutral client (publish typed messages, redrive). */
  readonly broker: Broker;
  /** The adapter underneath: raw bytes in and out, for payloads whose type the tool may not know. */
  readonly adapter: BrokerAdapter;
  /** `"nats"`, `"amqp"`, `"redis"` or `"memory"`. */
  readonly kind: string;
  /** Closes the connection (stops what is still consuming); never rejects. */
  close(): Promise<void>;
}

/**
 * Checks what the user typed as a broker URL: `nats://host:4222`,
 * `amqp://user:pass@host:5672[/vhost]`, `redis://host:6379`, `memory:`,
 * with the adapter options the broker takes in the query (`?exchange=shop`).
 *
 * @throws CliUsageError (exit status 2) for text that is no URL or has another scheme.
 */
export function parseBrokerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliUsageError(`bad broker URL "${text}": expected e.g. nats://127.0.0.1:4222, amqp://guest:guest@127.0.0.1:5672, redis://127.0.0.1:6379`);
  }
  if (!BROKER_SCHEMES.includes(url.protocol)) {
    throw new CliUsageError(`bad broker URL "${text}": unknown scheme "${url.protocol}" (known: ${BROKER_SCHEMES.map((s) => (s === "memory:" ? s : `${s}//`)).join(", ")})`);
  }
  return text;
}

/**
 * Connects to the broker at `url` (already checked by {@link parseBrokerUrl}).
 * The broker's logs go to stderr at level `FERRY_LOG_LEVEL` (default `warn`),
 * so stdout carries only the command's output.
 *
 * @throws FerryError UNAVAILABLE (exit 14) when the broker does not answer;
 *   FAILED_PRECONDITION (exit 9) when its client library is not installed.
 */
export async function openBroker(url: string): Promise<BrokerConnection> {
  const logger = pino({ name: "ferry", level: process.env.FERRY_LOG_LEVEL ?? "warn" }, pino.destination(2));
  const adapterOptions = url.startsWith("nats:") ? { fetchExpiresMs: NATS_FETCH_EXPIRES_MS } : {};
  const broker = await createBroker(url, { logger, adapterOptions });
  if (!(broker instanceof BrokerClient)) {
    await broker.close();
    throw new FerryError(Code.INTERNAL, "the broker client gives no access to its adapter");
  }
  let closed: Promise<void> | undefined;
  return {
    broker,
    adapter: broker.adapter,
    kind: broker.kind,
    close: () => (closed ??= broker.close().catch(() => undefined)),
  };
}

/**
 * Runs `work` with a broker connection and closes it afterwards, whatever
 * happens (an error is rethrown after the close).
 */
export async function withBroker<T>(url: string, work: (connection: BrokerConnection) => Promise<T>): Promise<T> {
  const connection = await openBroker(url);
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}
