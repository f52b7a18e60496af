import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Logger } from "../util/logger.js";
import type { Registration } from "./service-registry.js";

/** Options of {@link HeartbeatRegistration}. */
export interface HeartbeatRegistrationOptions {
  readonly service: string;
  readonly instanceId: string;
  readonly ttlMs: number;
  readonly heartbeatIntervalMs: number;
  /** Renew on a timer (true) or only when {@link Registration.renew} is called (false). */
  readonly keepAlive: boolean;
  /** Writes the instance again with a fresh TTL (re-creating it if it expired). */
  readonly renew: () => Promise<void>;
  /** Removes the instance from the backend. */
  readonly deregister: () => Promise<void>;
  /** Called after close, so the registry can forget the handle. */
  readonly onClosed?: () => void;
  readonly onError?: (error: FerryError) => void;
  readonly logger: Logger;
}

/**
 * A {@link Registration} that renews itself every `heartbeatIntervalMs` (one
 * renewal at a time; a failed one is reported and retried at the next tick)
 * and deregisters on close. The timer is unref'd: a registration alone does
 * not keep a process running.
 */
export class HeartbeatRegistration implements Registration {
  readonly service: string;
  readonly instanceId: string;
  readonly ttlMs: number;
  readonly #options: HeartbeatRegistrationOptions;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: HeartbeatRegistrationOptions) {
    this.#options = options;
    this.service = options.service;
    this.instanceId = options.instanceId;
    this.ttlMs = options.ttlMs;
    if (options.keepAlive) {
      this.#timer = setInterval(() => this.#tick(), options.heartbeatIntervalMs);
      this.#timer.unref();
    }
  }

  renew(): Promise<void> {
    if (this.#closed !== undefined) {
      return Promise.reject(new FerryError(Code.FAILED_PRECONDITION, `registration of ${this.instanceId} (${this.service}) is closed`));
    }
    return this.#renewOnce();
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight?.catch(() => undefined);
    try {
      await this.#options.deregister();
    } finally {
      this.#options.onClosed?.();
    }
  }

  #renewOnce(): Promise<void> {
    this.#inFlight ??= this.#options.renew().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  #tick(): void {
    if (this.#closed !== undefined || this.#inFlight !== undefined) return;
    this.#renewOnce().catch((error: unknown) => {
      const err = FerryError.from(error, Code.UNAVAILABLE);
      this.#options.logger.warn({ err, service: this.service, instanceId: this.instanceId }, "registry heartbeat failed");
      this.#options.onError?.(err);
    });
  }
}
