import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { HeartbeatRegistration } from "./heartbeat-registration.js";
import { checkServiceName, normalizeInstance, normalizeRegisterOptions, sortInstances } from "./instance-validation.js";
import type { RegistryOptions } from "./registry-options.js";
import type {
  RegisterOptions,
  Registration,
  RegistryListener,
  RegistryWatch,
  ServiceInstance,
  ServiceInstanceInit,
  ServiceRegistry,
} from "./service-registry.js";

/** The effective options of one registration, as a backend receives them. */
export type EffectiveRegisterOptions = ReturnType<typeof normalizeRegisterOptions>;

/** What a backend does for one registration. */
export interface BackendLease {
  /** The TTL the backend applies (e.g. rounded up to seconds); default the requested one. */
  readonly ttlMs?: number;
  /** The heartbeat period the backend needs; default the requested one. */
  readonly heartbeatIntervalMs?: number;
  /** Writes the instance again with a fresh TTL, re-creating it if it expired. */
  renew(): Promise<void>;
  /** Removes the instance. */
  deregister(): Promise<void>;
}

/**
 * The part every writable backend shares: input validation, the
 * self-renewing {@link Registration} handles, closed-state checks, closing
 * registrations and watches on `close()`, and turning backend failures into
 * UNAVAILABLE errors that name the operation. A backend supplies the
 * storage operations.
 */
export abstract class BackendRegistry implements ServiceRegistry {
  abstract readonly kind: string;
  protected readonly logger: Logger;
  readonly #maxInstanceBytes: number | undefined;
  readonly #registrations = new Set<Registration>();
  readonly #watches = new Set<RegistryWatch>();
  #closed = false;

  constructor(options: RegistryOptions) {
    this.logger = options.logger ?? getDefaultLogger();
    this.#maxInstanceBytes = options.maxInstanceBytes;
  }

  /** Writes a new instance and returns how to renew and remove it. */
  protected abstract openLease(instance: ServiceInstance, options: EffectiveRegisterOptions): Promise<BackendLease>;
  /** Reads the live instances of a service. */
  protected abstract list(service: string): Promise<ServiceInstance[]>;
  /** Starts a watch of a service. */
  protected abstract watchService(service: string, listener: RegistryListener): RegistryWatch;
  /** Releases the backend's resources (connections); called once, last, by close(). */
  protected abstract closeBackend(): Promise<void>;
  /** Adjusts a validated instance before it is stored (e.g. dropping inproc endpoints). */
  protected prepare(instance: ServiceInstance): ServiceInstance {
    return instance;
  }

  async register(init: ServiceInstanceInit, options?: RegisterOptions): Promise<Registration> {
    this.#checkOpen();
    const instance = this.prepare(normalizeInstance(init, this.#maxInstanceBytes));
    const opts = normalizeRegisterOptions(options);
    const what = `${instance.instanceId} of ${instance.service}`;
    const lease = await this.guard(() => this.openLease(instance, opts), `register ${what}`);
    const registration: Registration = new HeartbeatRegistration({
      ...opts,
      ttlMs: lease.ttlMs ?? opts.ttlMs,
      heartbeatIntervalMs: lease.heartbeatIntervalMs ?? opts.heartbeatIntervalMs,
      service: instance.service,
      instanceId: instance.instanceId,
      logger: this.logger,
      renew: () => {
        this.#checkOpen();
        return this.guard(() => lease.renew(), `renew ${what}`);
      },
      deregister: () => this.guard(() => lease.deregister(), `deregister ${what}`),
      onClosed: () => this.#registrations.delete(registration),
    });
    this.#registrations.add(registration);
    return registration;
  }

  async resolve(service: string): Promise<readonly ServiceInstance[]> {
    this.#checkOpen();
    const name = checkServiceName(service);
    return sortInstances(await this.guard(() => this.list(name), `resolve ${name}`));
  }

  watch(service: string, listener: RegistryListener): RegistryWatch {
    this.#checkOpen();
    const inner = this.watchService(checkServiceName(service), listener);
    const watch: RegistryWatch = {
      close: async () => {
        this.#watches.delete(watch);
        await inner.close();
      },
    };
    this.#watches.add(watch);
    return watch;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.allSettled([...this.#registrations].map((r) => r.close()));
    this.#closed = true;
    await Promise.all([...this.#watches].map((w) => w.close()));
    await this.closeBackend();
  }

  /** Runs a backend operation; a failure other than a FerryError becomes UNAVAILABLE naming `what`. */
  protected async guard<T>(op: () => Promise<T>, what: string): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof FerryError) throw error;
      throw new FerryError(Code.UNAVAILABLE, `${this.kind} registry: cannot ${what}: ${(error as Error).message}`, { cause: error });
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new FerryError(Code.FAILED_PRECONDITION, `${this.kind} registry is closed`);
  }
}

/** Drops `inproc` endpoints (unreachable from another process); INVALID_ARGUMENT if none remain. */
export function withoutInproc(instance: ServiceInstance): ServiceInstance {
  const endpoints = instance.endpoints.filter((e) => e.transport !== "inproc");
  if (endpoints.length === 0) {
    throw new FerryError(Code.INVALID_ARGUMENT, `instance ${instance.instanceId} of ${instance.service} has only inproc endpoints, which other processes cannot reach`);
  }
  return endpoints.length === instance.endpoints.length ? instance : { ...instance, endpoints };
}
