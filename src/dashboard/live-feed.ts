/**
 * Live updates for the page, as server-sent events (`GET /api/events`,
 * `text/event-stream`). Whatever the span rate, at most one small `update`
 * event per `liveIntervalMs` goes to each page — `{ version, usage }` — and
 * the page then reloads the view it shows; a comment line every 15 s keeps
 * proxies from closing an idle stream. A page that reads slowly misses
 * updates rather than buffering them.
 *
 * Source: WHATWG HTML, "Server-sent events".
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "./http-replies.js";
import type { TelemetrySink } from "./telemetry-sink.js";

/** Options of the live feed. */
export interface LiveFeedOptions {
  /** Pages connected at once; one more gets 503. Default 32. */
  readonly maxLiveClients?: number;
  /** Shortest time between two updates, in ms. Default 1 000. */
  readonly liveIntervalMs?: number;
}

const HEARTBEAT_MS = 15_000;

/** The set of connected pages and the timer that updates them. */
export class LiveFeed {
  readonly #sink: TelemetrySink;
  readonly #maxClients: number;
  readonly #intervalMs: number;
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | undefined;
  #sentVersion = -1;
  #lastWriteMs = 0;

  constructor(sink: TelemetrySink, options: LiveFeedOptions = {}) {
    this.#sink = sink;
    this.#maxClients = options.maxLiveClients ?? 32;
    this.#intervalMs = Math.max(50, options.liveIntervalMs ?? 1_000);
  }

  /** Opens an event stream on `res`; throws {@link HttpError} 503 when `maxLiveClients` are connected. */
  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.#clients.size >= this.#maxClients) throw new HttpError(503, `too many live pages (maxLiveClients ${this.#maxClients}); close one`, { "retry-after": "5" });
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" });
    res.write(`retry: 2000\n${this.#updateEvent()}`);
    this.#clients.add(res);
    const drop = (): void => {
      this.#clients.delete(res);
      if (this.#clients.size === 0) this.#stop();
    };
    req.on("close", drop);
    res.on("error", drop);
    this.#timer ??= setInterval(() => this.#tick(), this.#intervalMs).unref();
  }

  /** Pages connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Ends every stream and stops the timer. */
  close(): void {
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    this.#stop();
  }

  #tick(): void {
    const now = Date.now();
    if (this.#sink.version !== this.#sentVersion) this.#broadcast(this.#updateEvent());
    else if (now - this.#lastWriteMs >= HEARTBEAT_MS) this.#broadcast(": keep-alive\n\n");
  }

  #broadcast(text: string): void {
    this.#lastWriteMs = Date.now();
    for (const res of this.#clients) {
      if (res.writableNeedDrain) continue; // a slow page skips this update
      res.write(text);
    }
  }

  #updateEvent(): string {
    this.#sentVersion = this.#sink.version;
    return `event: update\ndata: ${JSON.stringify({ version: this.#sink.version, usage: this.#sink.usage })}\n\n`;
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
