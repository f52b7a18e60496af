import type { ConnectionOptions } from "node:tls";
import type { ChannelModel } from "amqplib";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Logger } from "../../util/logger.js";

/** The part of the `amqplib` module the adapter uses (loaded with a dynamic import). */
export type AmqpLib = typeof import("amqplib");

/** Options of {@link AmqpConnection}. */
export interface AmqpConnectionOptions {
  /** The broker URL as amqplib takes it (`amqp://user:pass@host:port/vhost`). */
  readonly url: string;
  /** TLS options of an `amqps://` URL, passed to `tls.connect` (CA, client certificate, servername). */
  readonly tls?: ConnectionOptions;
  readonly amqp: AmqpLib;
  readonly logger: Logger;
  /** First reconnect delay in ms; doubles per failed attempt up to {@link maxReconnectDelayMs}. Default 100. */
  readonly reconnectDelayMs?: number;
  /** Upper bound of the reconnect delay in ms. Default 5000. */
  readonly maxReconnectDelayMs?: number;
}

/**
 * One AMQP 0-9-1 connection that reconnects by itself: after the broker
 * closes it (restart, `rabbitmqctl stop_app`, network loss) it retries with
 * exponential backoff (100 ms doubling to 5 s) until {@link close} is called,
 * then tells every {@link onConnect} listener so that publishers and
 * consumers reopen their channels and redeclare their topology. While it is
 * down, {@link current} returns `undefined` and callers fail fast with
 * UNAVAILABLE.
 */
export class AmqpConnection {
  readonly #options: AmqpConnectionOptions;
  readonly #listeners = new Set<(model: ChannelModel) => void>();
  #model: ChannelModel | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;

  constructor(options: AmqpConnectionOptions) {
    this.#options = options;
  }

  /** Opens the first connection; raises UNAVAILABLE when the broker cannot be reached. */
  async start(): Promise<void> {
    this.#model = await this.#open();
  }

  /** The open connection, or `undefined` while reconnecting. */
  current(): ChannelModel | undefined {
    return this.#model;
  }

  /** The open connection; raises UNAVAILABLE (retryable) while reconnecting. */
  require(): ChannelModel {
    if (this.#model !== undefined) return this.#model;
    throw new FerryError(Code.UNAVAILABLE, this.#closed ? "the AMQP adapter is closed" : "the AMQP broker connection is down; reconnecting");
  }

  /** The broker's version from its server properties (e.g. `"3.10.8"`), or `""`. */
  serverVersion(): string {
    const props = this.#model?.connection.serverProperties as Record<string, unknown> | undefined;
    const v = props?.version;
    return typeof v === "string" ? v : Buffer.isBuffer(v) ? v.toString() : "";
  }

  /** Calls `listener` after every successful reconnect; returns a function that removes it. */
  onConnect(listener: (model: ChannelModel) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Closes the connection and stops reconnecting. Waits at most
   * `closeTimeoutMs` (default 2000) for the broker's close-ok, then drops the
   * socket: closing never hangs on a dead or partitioned broker.
   */
  async close(closeTimeoutMs = 2000): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const model = this.#model;
    this.#model = undefined;
    if (model === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), closeTimeoutMs)));
    const closed = model.close().then(() => false, () => false);
    if (await Promise.race([closed, timedOut])) {
      (model.connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    }
    clearTimeout(timer);
  }

  async #open(): Promise<ChannelModel> {
    const { amqp, url, logger, tls } = this.#options;
    let model: ChannelModel;
    try {
      model = await amqp.connect(url, tls);
    } catch (err) {
      throw new FerryError(Code.UNAVAILABLE, `cannot connect to the AMQP broker: ${(err as Error).message}`, { cause: err });
    }
    model.on("error", (err: Error) => logger.warn({ err }, "AMQP connection error"));
    model.on("close", () => this.#lost(model));
    model.on("blocked", (reason: string) => logger.warn({ reason }, "AMQP broker blocked publishing"));
    return model;
  }

  #lost(model: ChannelModel): void {
    if (this.#model !== model) return;
    this.#model = undefined;
    if (this.#closed) return;
    this.#options.logger.warn({}, "AMQP connection lost; reconnecting");
    this.#schedule();
  }

  #schedule(): void {
    const base = this.#options.reconnectDelayMs ?? 100;
    const max = this.#options.maxReconnectDelayMs ?? 5000;
    const delay = Math.min(max, base * 2 ** this.#attempt++);
    this.#timer = setTimeout(() => void this.#reconnect(), delay);
  }

  async #reconnect(): Promise<void> {
    if (this.#closed) return;
    let model: ChannelModel;
    try {
      model = await this.#open();
    } catch {
      this.#schedule();
      return;
    }
    if (this.#closed) {
      await model.close().catch(() => {});
      return;
    }
    this.#attempt = 0;
    this.#model = model;
    this.#options.logger.info({}, "AMQP connection re-established");
    for (const listener of [...this.#listeners]) listener(model);
  }
}
